"""The engine matrix: tests using the ``engine`` fixture run once per engine (DESIGN.md).

A module opts in with ``pytestmark = pytest.mark.usefixtures("engine")``.

DuckDB is embedded; PostgreSQL is the server at ``LEADSCORE_TEST_PG_URL``
(default ``postgresql://postgres@127.0.0.1:5432/test``); Spark runs locally (Java 17).
No engine is skipped: a missing one fails its tests, with CI=true or without.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import support
from support import DATABASES, ENGINES


@pytest.fixture(autouse=True, scope="session")
def _query_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Compiled queries are kept in the run's own folder, not the user's cache."""
    os.environ["LEADSCORE_CACHE_DIR"] = str(tmp_path_factory.mktemp("query-cache"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames:
        metafunc.parametrize("engine", ENGINES, indirect=True)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test on one engine: ``support.score_rows`` and friends use it."""
    name: str = request.param
    token = support.ENGINE.set((name, DATABASES[name]))
    try:
        yield name
    finally:
        support.ENGINE.reset(token)
