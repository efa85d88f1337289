"""No leakage: events after a lead's cut-off change nothing that is learned."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa
import pytest
from learning_data import T, after_cutoff, history

import leadscore
from leadscore.learn.archive import files


def learned_files(learned: leadscore.Learned) -> dict[str, bytes]:
    content = files(learned)
    manifest = content.pop("learned.json").decode()
    # The learning instant is the only thing allowed to differ.
    content["learned.json"] = "\n".join(
        line for line in manifest.splitlines() if '"learned_at"' not in line
    ).encode()
    return content


@pytest.fixture(scope="module")
def data() -> dict[str, pa.Table]:
    return history(1200, seed=3)


def test_events_after_the_snapshot_change_nothing(data: dict[str, pa.Table]) -> None:
    leads, events = data["leads"], data["events"]
    later = pa.concat_tables([events, after_cutoff(leads)])
    plain = leadscore.learn(leads, events, as_of=T, horizon_days=30)
    leaky = leadscore.learn(leads, later, as_of=T, horizon_days=30)
    assert learned_files(leaky) == learned_files(plain)


def test_events_at_or_after_a_conversion_change_nothing(data: dict[str, pa.Table]) -> None:
    leads, events = data["leads"], data["events"]
    # One late event fixes the end of the data, the instant of non-converters.
    end = pa.table(
        {
            "lead_id": ["L0"],
            "type": ["webinar"],
            "timestamp": pa.array([T + timedelta(days=60)], pa.timestamp("us")),
            "url": [""],
        }
    )
    base = pa.concat_tables([events, end])
    won = [
        (lead, at)
        for lead, at in zip(
            leads.column("lead_id").to_pylist(),
            leads.column("converted_at").to_pylist(),
            strict=True,
        )
        if at is not None
    ]
    rows = [(lead, at + timedelta(days=d)) for lead, at in won for d in (0, 0, 1, 2.5)]
    extra = pa.table(
        {
            "lead_id": [r[0] for r in rows],
            "type": ["pricing_view"] * len(rows),
            "timestamp": pa.array([r[1] for r in rows], pa.timestamp("us")),
            "url": ["/pricing"] * len(rows),
        }
    )
    plain = leadscore.learn(leads, base)
    leaky = leadscore.learn(leads, pa.concat_tables([base, extra]))
    assert plain.metadata["cutoff_scheme"] == "conversion"
    assert learned_files(leaky) == learned_files(plain)


def test_a_column_that_gives_the_answer_away_is_named_in_a_warning(
    data: dict[str, pa.Table], caplog: pytest.LogCaptureFixture
) -> None:
    leads = data["leads"]
    won = np.asarray(leads.column("converted").to_pylist())
    notes = np.where(won, "signed, send contract", "no answer")
    leaky = leads.append_column("sales_notes", pa.array(notes))
    learned = leadscore.learn(leaky, as_of=T, horizon_days=30)
    assert any("'sales_notes' alone predicts the target" in w for w in caplog.messages)
    assert "--exclude sales_notes" in learned.metadata["warnings"][0]
    caplog.clear()
    cleaned = leadscore.learn(leaky, as_of=T, horizon_days=30, exclude=["sales_notes"])
    assert "sales_notes" not in cleaned.metadata["features"]
    assert not any("alone predicts" in w for w in caplog.messages)
    assert cleaned.settings["exclude"] == ["sales_notes"]
