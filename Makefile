# leadscore: the two commands of the README are `make demo` and `make test`.
# Both bootstrap everything from a bare Debian machine with Python 3.11.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
RUN := $(UV) run --frozen --no-sync
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Installed modules are compiled once, so start-up never recompiles them (some machines
# set PYTHONDONTWRITEBYTECODE, which would make every run compile pandas and ibis).
export UV_COMPILE_BYTECODE := 1

.PHONY: install system demo test lint bench bench-learn bench-data clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.synced

# Test-only system parts: Java 17 for local PySpark (the engine parity suite).
# PostgreSQL runs as a service on the test machines (README, "Development").
JAVA := $(shell command -v java 2>/dev/null)
system:
ifeq ($(JAVA),)
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless
endif

demo: install
	$(RUN) leadscore demo

test: install system
	$(RUN) pytest -n auto -q

lint: install
	$(RUN) ruff check src tests bench
	$(RUN) ruff format --check src tests bench
	$(RUN) mypy

bench: install
	$(RUN) python bench/run.py
	$(RUN) python bench/incremental.py

bench-learn: install
	$(RUN) python bench/learn.py

clean:
	rm -rf $(TOOLS) $(VENV) .pytest_cache .mypy_cache .ruff_cache
