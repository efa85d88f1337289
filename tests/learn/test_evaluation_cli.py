"""`leadscore evaluate` as users run it: real files, exit codes, messages, the HTML report."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from leadscore.cli import app

MODEL = """\
version: 1
name: evaluated
fit:
  rules:
    - {id: ceo, when: {job_title: ceo}, points: 20}
engagement:
  rules:
    - {id: pricing, event: page_view, when: {url: {contains: /pricing}}, points: 10}
"""


def invoke(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["evaluate", *[str(a) for a in args]])


def write_csv(path: Path, rows: list[dict[str, object]], delimiter: str = ",") -> Path:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def history(n: int = 400, seed: int = 0) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rng = np.random.default_rng(seed)
    start = datetime(2025, 1, 1)
    leads, events = [], []
    for i in range(n):
        ceo = bool(rng.uniform() < 0.4)
        created = start + timedelta(days=int(rng.integers(0, 150)))
        visits = int(rng.integers(0, 3))
        converted = bool(rng.uniform() < 0.1 + 0.3 * ceo + 0.15 * visits)
        converted_at = created + timedelta(days=int(rng.integers(5, 40)))
        leads.append(
            {
                "lead_id": f"L{i:04d}",
                "job_title": "CEO" if ceo else "Engineer",
                "created_at": created.date().isoformat(),
                "converted_at": converted_at.isoformat() if converted else "",
                "converted": "Yes" if converted else "No",
            }
        )
        events += [
            {
                "lead_id": f"L{i:04d}",
                "type": "page_view",
                "timestamp": (created + timedelta(days=1 + v)).isoformat() + "Z",
                "url": "/pricing",
            }
            for v in range(visits)
        ]
    return leads, events


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    leads, events = history()
    model = tmp_path / "model.yaml"
    model.write_text(MODEL)
    return {
        "model": model,
        "leads": write_csv(tmp_path / "leads.csv", leads, ";"),
        "events": write_csv(tmp_path / "events.csv", events),
    }


def test_evaluate_prints_the_figures(files):
    result = invoke("-m", files["model"], "-l", files["leads"], "-e", files["events"])
    assert result.exit_code == 0, result.output
    for words in ("backtest", "ROC AUC", "Suggested thresholds", "Deciles"):
        assert words in result.stdout


def test_evaluate_json(files):
    result = invoke("-m", files["model"], "-l", files["leads"], "-e", files["events"], "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["method"] == "backtest"
    assert data["target"] == "converted"
    (score,) = data["scores"]
    assert score["leads"] == 400
    assert 0.6 < score["roc_auc"] < 1
    assert len(score["deciles"]) == 10
    assert sum(d["leads"] for d in score["deciles"]) == 400
    assert score["ece"] is None  # points are not probabilities
    assert {t["goal"] for t in score["thresholds"]} >= {"top 10 a week"}
    assert data["period"]["column"] == "created_at"


class Resources(HTMLParser):
    """Every URL the page would load: script/img/iframe src, link href, CSS url()."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.scripts = 0
        self.inline_bytes = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href", "data"):
            value = values.get(name)
            if value and not (tag == "a" and name == "href"):
                self.loaded.append(value)

    def handle_data(self, data: str) -> None:
        self.inline_bytes += len(data)


def test_html_report_is_self_contained_with_both_charts(files, tmp_path):
    out = tmp_path / "evaluation.html"
    result = invoke(
        "-m", files["model"], "-l", files["leads"], "-e", files["events"], "--html", out
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    page = Resources()
    page.feed(text)
    assert page.loaded == []  # nothing fetched: no src, no stylesheet, no iframe
    assert "@import" not in text
    assert page.inline_bytes > 3_000_000  # plotly.js is inlined
    assert 'Plotly.newPlot(                        "lift"' in text
    assert 'Plotly.newPlot(                        "calibration-0"' in text
    assert "cumulative lift" in text
    assert "observed conversion rate" in text


def test_html_report_into_a_missing_folder_is_a_clear_error(files, tmp_path):
    out = tmp_path / "nowhere" / "evaluation.html"
    result = invoke("-m", files["model"], "-l", files["leads"], "--html", out)
    assert result.exit_code == 2
    assert "Cannot write the HTML report" in result.output


def rewrite(files: dict[str, Path], change) -> Path:  # type: ignore[no-untyped-def]
    rows = list(csv.DictReader(files["leads"].open(), delimiter=";"))
    return write_csv(files["leads"], [change(i, dict(row)) for i, row in enumerate(rows)])


def test_missing_target_column(files):
    result = invoke("-m", files["model"], "-l", files["leads"], "--target", "won")
    assert result.exit_code == 2
    assert "'won'" in result.output
    assert str(files["leads"]) in result.output
    assert "Traceback" not in result.output


def test_target_not_boolean_like_names_the_file_column_and_values(files):
    leads = rewrite(
        files, lambda i, r: {**r, "converted": "maybe" if i in (3, 7) else r["converted"]}
    )
    result = invoke("-m", files["model"], "-l", leads)
    assert result.exit_code == 2
    assert str(leads) in result.output
    assert "'converted'" in result.output
    assert "boolean-like" in result.output
    assert "'maybe'" in result.output
    assert "row 4" in result.output


def test_constant_target(files):
    leads = rewrite(files, lambda i, r: {**r, "converted": "no", "converted_at": ""})
    result = invoke("-m", files["model"], "-l", leads)
    assert result.exit_code == 2
    assert "constant" in result.output


def test_fewer_than_50_conversions(files):
    def keep_49(i: int, row: dict[str, str]) -> dict[str, str]:
        return {**row, "converted": "yes" if i < 49 else "no"}

    result = invoke("-m", files["model"], "-l", rewrite(files, keep_49))
    assert result.exit_code == 2
    assert "not enough conversions" in result.output
    assert "49" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (b"PAR1\x00\x01garbage", "Cannot read"),
    ],
)
def test_unreadable_leads_file(tmp_path, files, content, message):
    leads = tmp_path / "leads.parquet"
    if content is not None:
        leads.write_bytes(content)
    result = invoke("-m", files["model"], "-l", leads)
    assert result.exit_code == 2
    assert message in result.output
    assert str(leads) in result.output


def test_unreadable_model_file(tmp_path, files):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nfit: {rules: [{id: a, points: 1, when: {x: {gte_: 1}}}]}\n")
    result = invoke("-m", bad, "-l", files["leads"])
    assert result.exit_code == 2
    assert "gte_" in result.output


@pytest.mark.parametrize(
    "args",
    [
        (),  # neither --model nor --learned
        ("--learned", "learned/"),  # both
        ("--split", "random"),
    ],
)
def test_bad_arguments(files, args):
    if args == ():
        result = invoke("-l", files["leads"])
    else:
        result = invoke("-m", files["model"], "-l", files["leads"], *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_a_seed_repeats_a_run_exactly(files):
    args = ("-m", files["model"], "-l", files["leads"], "-e", files["events"], "--json")
    first, again = invoke(*args, "--seed", 7), invoke(*args, "--seed", 7)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == json.loads(again.stdout)


def test_one_fold_is_a_clear_error(files):
    result = invoke("-m", files["model"], "-l", files["leads"], "--split", "folds", "--folds", "1")
    assert result.exit_code == 2
    assert "at least 2 folds" in result.output
