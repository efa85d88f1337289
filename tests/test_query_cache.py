"""DuckDB keeps compiled scoring queries between runs (leadscore.engine.query_cache).

The kept query reads T from a session variable, so one query serves every instant;
each test computes its expected points by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import leadscore
from leadscore.cli import app
from leadscore.top import top
from support import days_ago, events_table, leads_table

# 4 points a page view, halved every 10 days; one view 10 days before 2025-06-01.
MODEL = {
    "name": "cache",
    "engagement": {
        "half_life_days": 10,
        "rules": [{"id": "view", "event": "page_view", "points": 4}],
    },
}
EVENTS = events_table([{"lead_id": "1", "type": "page_view", "timestamp": days_ago(10)}])
LEADS = leads_table([{"lead_id": "1"}])


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEADSCORE_CACHE_DIR", str(tmp_path))
    return tmp_path


def kept(folder: Path) -> list[Path]:
    return sorted((folder / "queries").glob("*.sql"))


def engagement(
    as_of: str, model: dict[str, Any] = MODEL, leads: pa.Table = LEADS, events: pa.Table = EVENTS
) -> Any:
    table = leadscore.score(leadscore.load_model(model), leads, events, as_of)
    return table.column("engagement")[0].as_py()


def test_one_kept_query_scores_every_instant(folder: Path) -> None:
    assert engagement("2025-06-01") == pytest.approx(2.0)  # 10 days: 4 × 1/2
    assert len(kept(folder)) == 1
    assert engagement("2025-06-11") == pytest.approx(1.0)  # 20 days: 4 × 1/4
    assert engagement("2025-05-21") == 0.0  # the view is after T
    assert len(kept(folder)) == 1


def test_the_kept_query_is_the_one_run(folder: Path) -> None:
    engagement("2025-06-01")
    (path,) = kept(folder)
    path.write_text("SELECT '1' AS lead_id, 42.0 AS engagement", encoding="utf-8")
    assert engagement("2025-06-01") == 42.0


def test_a_damaged_kept_query_is_compiled_again(folder: Path) -> None:
    engagement("2025-06-01")
    (path,) = kept(folder)
    path.write_text("SELEC half a query", encoding="utf-8")
    assert engagement("2025-06-01") == pytest.approx(2.0)
    assert path.read_text(encoding="utf-8").lstrip().upper().startswith(("WITH", "SELECT"))


def test_another_model_has_its_own_query(folder: Path) -> None:
    rules = [{"id": "view", "event": "page_view", "points": 8}]
    doubled = {"name": "cache", "engagement": {"half_life_days": 10, "rules": rules}}
    assert engagement("2025-06-01") == pytest.approx(2.0)
    assert engagement("2025-06-01", doubled) == pytest.approx(4.0)  # 8 × 1/2
    assert len(kept(folder)) == 2


def test_inputs_with_other_column_types_have_their_own_query(folder: Path) -> None:
    rules = [{"id": "big", "when": {"company_size": {"gte": 100}}, "points": 10}]
    model = {"name": "size", "fit": {"rules": rules}}
    numbers = leads_table([{"lead_id": "1", "company_size": 120}])
    texts = leads_table([{"lead_id": "1", "company_size": " 120 "}])
    for leads in (numbers, texts, numbers):
        table = leadscore.score(leadscore.load_model(model), leads, None, "2025-06-01")
        assert table.column("fit").to_pylist() == [10.0]
    assert len(kept(folder)) == 2


def test_off_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADSCORE_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert engagement("2025-06-01") == pytest.approx(2.0)
    assert list(tmp_path.iterdir()) == []


def test_a_cache_that_cannot_be_written_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("LEADSCORE_CACHE_DIR", str(blocked))
    assert engagement("2025-06-01") == pytest.approx(2.0)
    assert engagement("2025-06-11") == pytest.approx(1.0)


def test_the_cli_reuses_the_kept_query(folder: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.json"
    model.write_text(json.dumps(MODEL), encoding="utf-8")
    leads, events = tmp_path / "leads.parquet", tmp_path / "events.parquet"
    pq.write_table(LEADS, leads)
    pq.write_table(EVENTS, events)
    scores = {}
    for day in ("2025-06-01", "2025-06-11"):
        out = tmp_path / f"{day}.csv"
        args = ["score", "-m", str(model), "-l", str(leads), "-e", str(events)]
        result = CliRunner().invoke(app, [*args, "--as-of", day, "-o", str(out)])
        assert result.exit_code == 0, result.output
        scores[day] = pacsv.read_csv(out).column("engagement")[0].as_py()
    assert scores == pytest.approx({"2025-06-01": 2.0, "2025-06-11": 1.0})
    assert len(kept(folder)) == 1


def test_top_keeps_its_own_query_for_every_instant(folder: Path) -> None:
    model = leadscore.load_model(MODEL)
    for day, points in (("2025-06-01", 2.0), ("2025-06-11", 1.0)):  # 4 × 1/2, 4 × 1/4
        table = top(model, LEADS, EVENTS, day)
        assert table.column("engagement").to_pylist() == pytest.approx([points])
    assert len(kept(folder)) == 1
