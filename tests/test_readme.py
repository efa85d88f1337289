"""The README's "Use it on your data" commands run as written, on the demo data."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.demo import generate_demo

README = (Path(__file__).parent.parent / "README.md").read_text()


def commands() -> list[list[str]]:
    section = README.split("## Use it on your data", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the section starts with a sh block"
    joined = block.group(1).replace("\\\n", " ")
    lines = [line.split("  #")[0].strip() for line in joined.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("leadscore ")]


def test_the_readme_block_has_the_main_commands() -> None:
    names = [argv[0] for argv in commands()]
    assert {"init", "validate", "score", "top", "explain", "accounts"} <= set(names)
    assert any("--since" in argv for argv in commands() if argv[0] == "score")


def test_the_readme_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate_demo(tmp_path, leads=300)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    first_lead = (tmp_path / "leads.csv").read_text().splitlines()[1].split(",")[0].strip('"')
    for written in commands():
        argv = [first_lead if a == "L00042" else a for a in written]
        if argv[0] == "top" and "--since" in argv:  # yesterday's list, as a user has one
            yesterday = argv[argv.index("--since") + 1]
            setup = ["score", "-m", "model.yaml", "-l", "leads.csv", "-e", "events.parquet"]
            assert runner.invoke(app, [*setup, "-o", yesterday]).exit_code == 0
        if "--new-events" in argv:  # the events that arrived since, as a user has them
            arrived = argv[argv.index("--new-events") + 1]
            events = pq.read_table("events.parquet")
            pq.write_table(events.slice(len(events) - 20), arrived)
        result = runner.invoke(app, argv)
        assert result.exit_code == 0, (argv, result.output)
    assert (tmp_path / "today.parquet").stat().st_size > 0
    assert (tmp_path / "accounts.csv").stat().st_size > 0
