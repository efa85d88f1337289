"""`leadscore learn` and `leadscore predict` as users run them, on real data samples.

The samples are read in place from ../shared/data (see its README); nothing of
them is copied into the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

import leadscore
from leadscore.cli import app
from support import shared_folder

DATA = shared_folder() / "data"
BANK = DATA / "bank-marketing" / "bank-additional-full.csv"
SHOPPERS = DATA / "online-shoppers" / "online_shoppers_intention.csv"


def sample(path: Path, every: int, offset: int) -> pa.Table:
    """Every n-th row, as text cells like a CSV, with the row number as lead_id."""
    table = duckdb.sql(
        f"SELECT * FROM read_csv('{path}', header = true, all_varchar = true)"
    ).to_arrow_table()
    table = table.append_column("lead_id", pa.array([str(i) for i in range(table.num_rows)]))
    return table.take(pa.array(np.arange(offset, table.num_rows, every)))


def write(table: pa.Table, path: Path) -> Path:
    pacsv.write_csv(table, path, pacsv.WriteOptions(delimiter=";"))
    return path


def invoke(*args: object) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def outcome(table: pa.Table, column: str) -> np.ndarray:
    return np.array([v.lower() in ("yes", "true") for v in table.column(column).to_pylist()])


def test_learn_then_score_and_predict_on_the_bank_sample(tmp_path: Path) -> None:
    train = write(sample(BANK, 8, 0), tmp_path / "train.csv")
    held = sample(BANK, 8, 4)
    test = write(held.drop_columns(["y"]), tmp_path / "test.csv")
    out = tmp_path / "learned"
    result = invoke("learn", "-l", train, "--target", "y", "--exclude", "duration", "-o", out)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "What converts" in result.output  # type: ignore[attr-defined]
    assert invoke("validate", out / "model.yaml").exit_code == 0  # type: ignore[attr-defined]
    scored = tmp_path / "scores.csv"
    result = invoke("score", "-m", out / "model.yaml", "-l", test, "-o", scored)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    predicted = tmp_path / "predicted.csv"
    result = invoke("predict", "--learned", out, "-l", test, "-o", predicted)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    rows = pacsv.read_csv(predicted, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    assert rows.column_names == [
        "lead_id", "probability", "predictive_score", "reason_1", "reason_2", "reason_3"
    ]  # fmt: skip
    by_id = dict(
        zip(rows.column("lead_id").to_pylist(), rows.column("probability").to_pylist(), strict=True)
    )
    y = outcome(held, "y")
    probability = np.array([by_id[int(i)] for i in held.column("lead_id").to_pylist()])
    assert roc_auc_score(y, probability) > 0.75
    assert abs(probability.mean() - y.mean()) < 0.03
    scores = pacsv.read_csv(scored)
    points = dict(
        zip(scores.column("lead_id").to_pylist(), scores.column("score").to_pylist(), strict=True)
    )
    assert roc_auc_score(y, [points[int(i)] for i in held.column("lead_id").to_pylist()]) > 0.74
    learned = leadscore.load_learned(out)
    assert "duration" not in learned.metadata["features"]
    assert learned.settings["exclude"] == ["duration"]


def test_learn_json_summary_on_the_shoppers_sample(tmp_path: Path) -> None:
    train = write(sample(SHOPPERS, 3, 0), tmp_path / "train.csv")
    out = tmp_path / "learned.zip"
    result = invoke("learn", "-l", train, "-t", "Revenue", "-o", out, "--json", "--seed", 3)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    summary = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert summary["conversion_report"][0]["feature"] == "PageValues"
    assert summary["metrics"]["predictive_held_out"]["auc"] > 0.9
    assert summary["cutoff_scheme"] == "conversion"
    assert out.is_file()
    held = sample(SHOPPERS, 3, 1)
    predicted = leadscore.predict(out, held.drop_columns(["Revenue"]))
    y = outcome(held, "Revenue")
    assert roc_auc_score(y, predicted.column("probability").to_numpy()) > 0.9


@pytest.mark.parametrize("command", ["learn", "predict"])
def test_help_has_an_example(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0  # type: ignore[attr-defined]
    assert f"Example: leadscore {command}" in result.output  # type: ignore[attr-defined]
