"""Saving and loading learned models: no pickle, same predictions, same seed same result."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest
from learning_data import T, history
from test_learn_leakage import learned_files

import leadscore
from leadscore.errors import LeadscoreError


@pytest.fixture(scope="module")
def data() -> dict[str, pa.Table]:
    return history(1000, seed=5)


@pytest.fixture(scope="module")
def learned(data: dict[str, pa.Table]) -> leadscore.Learned:
    return leadscore.learn(data["leads"], data["events"], as_of=T, horizon_days=30, seed=7)


@pytest.mark.parametrize("name", ["learned", "learned.zip"])
def test_a_saved_model_predicts_the_same(
    learned: leadscore.Learned, data: dict[str, pa.Table], tmp_path: Path, name: str
) -> None:
    path = learned.save(tmp_path / name)
    loaded = leadscore.load_learned(path)
    leads = data["leads"].slice(0, 200)
    assert loaded.predict(leads, data["events"], T).equals(
        learned.predict(leads, data["events"], T)
    )
    assert loaded.points_model == learned.points_model
    assert loaded.settings == learned.settings
    assert loaded.conversion.num_rows == learned.conversion.num_rows
    assert learned_files(loaded) == learned_files(learned)


def test_the_layout_is_json_yaml_csv_and_lightgbm_text(
    learned: leadscore.Learned, tmp_path: Path
) -> None:
    path = learned.save(tmp_path / "learned.zip")
    names = sorted(zipfile.ZipFile(path).namelist())
    boosters = [n for n in names if n.startswith("booster-")]
    assert names == sorted(["conversion.csv", "learned.json", "model.yaml", *boosters])
    assert len(boosters) == 5
    with zipfile.ZipFile(path) as archive:
        assert archive.read(boosters[0]).startswith(b"tree\n")
        manifest = json.loads(archive.read("learned.json"))
    assert manifest["format"] == "leadscore-learned"
    assert manifest["metadata"]["leads"] == 1000


def test_the_points_table_is_a_valid_model_file(learned: leadscore.Learned, tmp_path: Path) -> None:
    path = learned.save(tmp_path / "learned")
    assert leadscore.load_model(path / "model.yaml") == learned.points_model


def test_the_same_seed_learns_the_same(
    learned: leadscore.Learned, data: dict[str, pa.Table]
) -> None:
    again = leadscore.learn(data["leads"], data["events"], as_of=T, horizon_days=30, seed=7)
    assert learned_files(again) == learned_files(learned)


def test_saving_over_a_model_replaces_it(learned: leadscore.Learned, tmp_path: Path) -> None:
    path = tmp_path / "learned"
    learned.save(path)
    (path / "stale.txt").write_text("from an older run")
    learned.save(path)
    assert not (path / "stale.txt").exists()


def test_what_is_not_a_learned_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LeadscoreError, match="does not exist"):
        leadscore.load_learned(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LeadscoreError, match=r"no readable learned\.json"):
        leadscore.load_learned(tmp_path / "empty")
    (tmp_path / "newer").mkdir()
    manifest = {"format": "leadscore-learned", "format_version": 99}
    (tmp_path / "newer" / "learned.json").write_text(json.dumps(manifest))
    with pytest.raises(LeadscoreError, match="newer leadscore"):
        leadscore.load_learned(tmp_path / "newer")
    (tmp_path / "model.pkl").write_bytes(b"\x80\x04not a learned model")
    with pytest.raises(LeadscoreError, match=r"neither a directory nor a \.zip"):
        leadscore.load_learned(tmp_path / "model.pkl")
