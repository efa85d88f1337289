"""Runs of ``score`` over files are kept and replayed by DuckDB alone (kept_runs).

A replay asks the data the questions the full run asked (columns, timestamps,
lead ids); any other answer is a full run, with its results or its message. The
expected points are computed by hand: 4 points a page view, halved every 10 days.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pytest

import leadscore
import leadscore.api
from leadscore.errors import ErrorCode, LeadscoreError
from leadscore.launch import replayed, score_options

MODEL = {
    "name": "kept",
    "fit": {"rules": [{"id": "cto", "when": {"job_title": "CTO"}, "points": 10}]},
    "engagement": {
        "half_life_days": 10,
        "rules": [{"id": "view", "event": "page_view", "points": 4}],
    },
}
# One view 10 days before 2025-06-01.
EVENTS = "lead_id,type,timestamp\n1,page_view,2025-05-22T00:00:00Z\n"


@dataclass
class Job:
    folder: Path
    model: Path
    leads: Path
    events: Path

    @property
    def records(self) -> list[Path]:
        return sorted((self.folder / "cache" / "runs").glob("*.json"))

    def score(self, as_of: str, out: str = "scores.csv", **options: Any) -> dict[str, Any]:
        path = self.folder / out
        leadscore.score_file(self.model, self.leads, self.events, path, as_of=as_of, **options)
        row: dict[str, Any] = pacsv.read_csv(path).to_pylist()[0]
        return row

    def argv(self, as_of: str, out: str) -> list[str]:
        files = ["-m", str(self.model), "-l", str(self.leads), "-e", str(self.events)]
        return ["score", *files, "--as-of", as_of, "-o", str(self.folder / out)]


@pytest.fixture
def job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Job:
    monkeypatch.setenv("LEADSCORE_CACHE_DIR", str(tmp_path / "cache"))
    model = tmp_path / "model.json"
    model.write_text(json.dumps(MODEL), encoding="utf-8")
    leads, events = tmp_path / "leads.csv", tmp_path / "events.csv"
    leads.write_text("lead_id\n1\n", encoding="utf-8")
    events.write_text(EVENTS, encoding="utf-8")
    return Job(tmp_path, model, leads, events)


def no_full_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a full run, where the kept run should have been replayed")

    monkeypatch.setattr(leadscore.api, "open_session", refuse)


def test_a_kept_run_is_replayed_at_every_instant(job: Job, monkeypatch: pytest.MonkeyPatch) -> None:
    assert job.score("2025-06-01")["engagement"] == pytest.approx(2.0)  # 4 × 1/2
    assert len(job.records) == 1
    no_full_run(monkeypatch)
    assert job.score("2025-06-11")["engagement"] == pytest.approx(1.0)  # 20 days: 4 × 1/4
    later = job.score("2025-06-21")
    assert (later["fit"], later["engagement"], later["score"]) == pytest.approx((0, 0.5, 0.5))
    assert job.score("2025-05-21")["engagement"] == 0.0  # the view is after T


def test_a_replay_writes_what_a_full_run_writes(job: Job, monkeypatch: pytest.MonkeyPatch) -> None:
    job.score("2025-06-01", explain=True)
    job.score("2025-06-11", "replayed.csv", explain=True)
    monkeypatch.setenv("LEADSCORE_CACHE_DIR", "off")
    job.score("2025-06-11", "full.csv", explain=True)
    replay = (job.folder / "replayed.csv").read_bytes()
    assert replay == (job.folder / "full.csv").read_bytes()
    assert b"rule:view" in replay


def test_the_record_is_what_runs(job: Job) -> None:
    job.score("2025-06-01")
    (path,) = job.records
    record = json.loads(path.read_text(encoding="utf-8"))
    record["query"] = "SELECT '1' AS lead_id, 42.0 AS engagement"
    path.write_text(json.dumps(record), encoding="utf-8")
    assert job.score("2025-06-01")["engagement"] == 42.0


def test_a_replay_binds_the_scoring_sql_once(job: Job) -> None:
    # The full run creates a view of its scoring SQL and writes the view's rows; the
    # record holds that SQL as its query, with no step making the view (bound twice).
    job.score("2025-06-01")
    (path,) = job.records
    record = json.loads(path.read_text(encoding="utf-8"))
    views = [step[1] for step in record["steps"] if "leadscore_results" in step[1]]
    assert views == []
    assert "leadscore_results" not in record["query"]
    assert "page_view" in record["query"]  # the model's rule, in the scoring SQL itself
    assert job.score("2025-06-11")["engagement"] == pytest.approx(1.0)


def test_a_damaged_record_is_a_full_run(job: Job) -> None:
    job.score("2025-06-01")
    (path,) = job.records
    path.write_text('{"statements": [', encoding="utf-8")
    assert job.score("2025-06-11")["engagement"] == pytest.approx(1.0)
    assert json.loads(path.read_text(encoding="utf-8"))["query"]  # kept again, whole


def test_a_bad_timestamp_after_a_kept_run_is_an_error_and_keeps_the_output(job: Job) -> None:
    job.score("2025-06-01")
    before = (job.folder / "scores.csv").read_bytes()
    job.events.write_text(EVENTS + "1,page_view,not a date\n", encoding="utf-8")
    with pytest.raises(LeadscoreError) as caught:
        job.score("2025-06-11")
    assert caught.value.code == ErrorCode.BAD_TIMESTAMP
    assert "row 2" in str(caught.value)
    assert (job.folder / "scores.csv").read_bytes() == before


def test_a_repeated_lead_after_a_kept_run_is_an_error(job: Job) -> None:
    job.score("2025-06-01")
    job.leads.write_text("lead_id\n1\n 1\n", encoding="utf-8")
    with pytest.raises(LeadscoreError) as caught:
        job.score("2025-06-01")
    assert caught.value.code == ErrorCode.DUPLICATE_LEAD


def test_a_new_column_is_scored_by_a_full_run(job: Job, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="leadscore"):
        assert job.score("2025-06-01")["fit"] == 0.0
    assert "has no column 'job_title'" in caplog.text
    caplog.clear()
    job.leads.write_text("lead_id,job_title\n1, cto\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="leadscore"):
        row = job.score("2025-06-01")
    assert (row["fit"], row["score"]) == pytest.approx((10.0, 12.0))  # 10 + 4 × 1/2
    assert "job_title" not in caplog.text
    (record,) = job.records  # the new layout's run replaced the old one
    assert json.loads(record.read_text(encoding="utf-8"))["warnings"] == []


def test_a_replay_gives_the_warnings_again(
    job: Job, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    job.score("2025-06-01")
    no_full_run(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="leadscore"):
        job.score("2025-06-11")
    assert "has no column 'job_title'" in caplog.text


def test_a_missing_output_folder_is_the_full_runs_message(job: Job) -> None:
    job.score("2025-06-01")
    with pytest.raises(LeadscoreError) as caught:
        job.score("2025-06-01", "nowhere/scores.csv")
    assert caught.value.code == ErrorCode.BAD_ARGUMENT
    assert "does not exist" in str(caught.value)


def test_runs_whose_sql_holds_data_are_not_kept(job: Job) -> None:
    rules = [{"id": "free", "when": {"email_is_free": True}, "points": -5}]
    job.model.write_text(json.dumps({"name": "m", "fit": {"rules": rules}}), encoding="utf-8")
    job.leads.write_text("lead_id,email\n1,ana@gmail.com\n", encoding="utf-8")
    assert job.score("2025-06-01")["fit"] == -5.0
    assert job.records == []


def test_other_options_have_their_own_record(job: Job, monkeypatch: pytest.MonkeyPatch) -> None:
    job.score("2025-06-01")
    job.score("2025-06-01", explain=True)
    job.score("2025-06-01", memory_limit="1GB")
    assert len(job.records) == 3
    no_full_run(monkeypatch)
    assert job.score("2025-06-11", memory_limit="1GB")["engagement"] == pytest.approx(1.0)


def test_the_command_replays_before_importing_ibis(job: Job) -> None:
    command = Path(sys.executable).parent / "leadscore"
    first = subprocess.run(
        [str(command), *job.argv("2025-06-01", "first.csv")],
        check=False,
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    check = (
        "import sys; from leadscore.launch import main; sys.argv[1:] = sys.argv[2:]; main(); "
        "print(sorted({'ibis', 'pyarrow', 'pydantic', 'typer'} & set(sys.modules)))"
    )
    second = subprocess.run(
        [sys.executable, "-c", check, "-", *job.argv("2025-06-11", "second.csv")],
        check=False,
        capture_output=True,
        text=True,
    )
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "[]"
    assert f"Wrote {job.folder / 'second.csv'}" in second.stderr
    assert "warning: " in second.stderr  # the absent job_title, as the full run says it
    row = pacsv.read_csv(job.folder / "second.csv").to_pylist()[0]
    assert row["engagement"] == pytest.approx(1.0)


def test_a_script_replays_before_importing_ibis(job: Job) -> None:
    job.score("2025-06-01")
    script = (
        "import sys, leadscore; "
        "leadscore.score_file(*sys.argv[1:5], as_of='2025-06-11'); "
        "print(sorted({'ibis', 'pyarrow', 'pydantic'} & set(sys.modules)))"
    )
    paths = [job.model, job.leads, job.events, job.folder / "script.csv"]
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, paths)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    row = pacsv.read_csv(job.folder / "script.csv").to_pylist()[0]
    assert row["engagement"] == pytest.approx(1.0)  # 20 days: 4 × 1/4


@pytest.mark.parametrize(
    "extra",
    [
        ["--since", "old.csv"],  # incremental: the command line
        ["--engine", "postgres"],
        ["--db", "x.duckdb"],
        ["-m", "other.yaml"],  # an option twice
        ["--help"],
    ],
)
def test_what_a_replay_does_not_know_goes_to_the_command_line(job: Job, extra: list[str]) -> None:
    job.score("2025-06-01")
    argv = job.argv("2025-06-01", "scores.csv")
    assert replayed(argv) == job.folder / "scores.csv"
    assert replayed([*argv, *extra]) is None


def test_an_unreadable_as_of_goes_to_the_command_line(job: Job) -> None:
    job.score("2025-06-01")
    argv = job.argv("2025-06-01", "scores.csv")
    assert replayed([*argv[:-4], "--as-of", "yesterday", *argv[-2:]]) is None


def test_score_options_reads_both_spellings() -> None:
    argv = ["score", "--model=m.yaml", "-l", "l.csv", "--events", "e.csv", "-o", "o.csv"]
    assert score_options(argv) == {
        "model": "m.yaml",
        "leads": "l.csv",
        "events": "e.csv",
        "out": "o.csv",
    }
    assert score_options(["score", "-m", "m.yaml", "-l", "l.csv"]) is None  # no --out
    assert score_options(["top", "-m", "m.yaml", "-l", "l.csv", "-o", "o.csv"]) is None
