"""Bad input to learn and predict: clear messages, exit code 2 on the command line."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

import leadscore
from leadscore.cli import app
from leadscore.errors import ErrorCode, LeadscoreError


def leads(n: int = 400, positives: int = 100, **columns: list[object]) -> pa.Table:
    rng = np.random.default_rng(0)
    won = np.zeros(n, dtype=bool)
    won[rng.choice(n, positives, replace=False)] = True
    data: dict[str, object] = {
        "lead_id": [f"L{i}" for i in range(n)],
        "industry": rng.choice(["retail", "software"], n).tolist(),
        "converted": won.tolist(),
    }
    data.update(columns)
    return pa.table(data)


def error_of(table: pa.Table, **options: object) -> LeadscoreError:
    with pytest.raises(LeadscoreError) as caught:
        leadscore.learn(table, **options)  # type: ignore[arg-type]
    return caught.value


def test_a_missing_target_is_named() -> None:
    err = error_of(leads(), target="won")
    assert err.code == ErrorCode.MISSING_COLUMN
    assert "no column 'won'" in err.message
    assert "--target" in err.message


def test_a_constant_target_is_refused() -> None:
    err = error_of(leads(positives=0))
    assert err.code == ErrorCode.BAD_DATA
    assert "constant" in err.message


def test_a_target_that_is_not_boolean_like_is_refused() -> None:
    table = leads()
    stages = ["won" if v else "lost" for v in table.column("converted").to_pylist()]
    err = error_of(table.set_column(2, "converted", pa.array(stages)))
    assert "not boolean-like" in err.message
    assert "converted 'lost'" in str(err)


def test_an_empty_target_cell_is_named_by_row() -> None:
    table = leads()
    values = ["yes" if v else "no" for v in table.column("converted").to_pylist()]
    values[6] = " "
    err = error_of(table.set_column(2, "converted", pa.array(values)))
    assert "row 7" in str(err)


def test_fewer_than_50_conversions_is_not_enough_to_learn_from() -> None:
    err = error_of(leads(positives=49))
    assert "not enough conversions to learn from" in err.message
    assert "49 conversions" in err.message


def test_text_in_a_numeric_column_names_the_rows() -> None:
    sizes = [str(10 + i) for i in range(400)]
    sizes[41] = "n/a"
    err = error_of(leads(company_size=sizes))
    assert err.code == ErrorCode.BAD_NUMBER
    assert "leads row 42: company_size 'n/a' is not a number" in str(err)
    assert "--exclude company_size" in str(err)


def test_an_unknown_excluded_column_is_refused() -> None:
    err = error_of(leads(), exclude=["industy"])
    assert "--exclude names 'industy'" in err.message


def test_a_horizon_needs_a_snapshot_and_converted_at() -> None:
    assert "--horizon needs --as-of" in error_of(leads(), horizon_days=30).message
    err = error_of(leads(), as_of="2025-01-01", horizon_days=30)
    assert "no column 'converted_at'" in err.message


def test_unseen_categories_at_predict_time_score_as_another_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    learned = leadscore.learn(leads())
    new = pa.table({"lead_id": ["a", "b", "c"], "industry": ["Retail", "aerospace", None]})
    with caplog.at_level(logging.WARNING, logger="leadscore"):
        predicted = learned.predict(new)
    assert predicted.num_rows == 3
    assert np.isfinite(predicted.column("probability").to_numpy()).all()
    said = "column 'industry': 1 row holds 1 value not among those learned from (e.g. 'aerospace')"
    assert any(said in m for m in caplog.messages)


def test_the_command_line_exits_2_with_the_message(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    pacsv.write_csv(leads(positives=20), path)
    result = CliRunner().invoke(app, ["learn", "-l", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "not enough conversions to learn from" in result.output
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(
        app, ["predict", "--learned", str(tmp_path / "nope"), "-l", str(path), "-o", "x.csv"]
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output
