"""Saving and loading learned models without pickle: JSON, YAML, CSV and LightGBM text.

The layout (a directory, or the same files in one ``.zip``)::

    learned.json        features, settings, metadata, scorecard, calibration
    model.yaml          the points table, a model file for `leadscore score`
    conversion.csv      the conversion report
    booster-<k>.txt     LightGBM text models, one per inner fold

Loading parses data only: JSON, a model file (YAML 1.2, validated), and
LightGBM's text format; nothing in an archive from someone else can run code.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pacsv

from leadscore.errors import ErrorCode, LeadscoreError
from leadscore.learn.columns import Feature
from leadscore.learn.learned import Learned
from leadscore.model import parse_model

FORMAT = "leadscore-learned"
FORMAT_VERSION = 1
MANIFEST = "learned.json"
MODEL_FILE = "model.yaml"
REPORT_FILE = "conversion.csv"


def files(learned: Learned) -> dict[str, bytes]:
    """Every file of the layout, by name."""
    booster = learned.booster.to_dict()
    texts = booster.pop("boosters")
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "settings": learned.settings,
        "metadata": learned.metadata,
        "features": [f.to_dict() for f in learned.features],
        "derived": learned.derived,
        "card_features": learned.card_features,
        "scorecard": learned.card.to_dict(),
        "booster": {**booster, "files": [f"booster-{k}.txt" for k in range(len(texts))]},
        "percentiles": learned.percentiles.tolist(),
    }
    report = io.BytesIO()
    pacsv.write_csv(learned.conversion, report)
    result = {
        MANIFEST: json.dumps(manifest, indent=2, ensure_ascii=False, default=str).encode(),
        MODEL_FILE: learned.points_text.encode(),
        REPORT_FILE: report.getvalue(),
    }
    for k, text in enumerate(texts):
        result[f"booster-{k}.txt"] = text.encode()
    return result


def save(learned: Learned, path: Path) -> Path:
    """Write ``learned`` to ``path``: a ``.zip`` archive or a directory, atomically."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise LeadscoreError(
            ErrorCode.BAD_ARGUMENT,
            f"Cannot write {path}: the folder {parent} does not exist.",
            hint="Create the folder first.",
        )
    if path.exists() and not (path.is_dir() or path.suffix.lower() == ".zip"):
        raise LeadscoreError(
            ErrorCode.BAD_ARGUMENT,
            f"Cannot write {path}: it is a file, not a learned model.",
            hint="Name a new directory, or a .zip file.",
        )
    content = files(learned)
    if path.suffix.lower() == ".zip":
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
        os.close(fd)
        try:
            with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as archive:
                for member, data in content.items():
                    archive.writestr(member, data)
            Path(name).replace(path)
        finally:
            Path(name).unlink(missing_ok=True)
        return path
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))
    try:
        for member, data in content.items():
            (staging / member).write_bytes(data)
        if path.exists():
            shutil.rmtree(path)
        staging.replace(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def load_learned(path: str | Path) -> Learned:
    """Read a learned model written by :meth:`Learned.save` (directory or ``.zip``).

    Raises
    ------
    LeadscoreError
        When the path is not a learned model, or was written by a newer leadscore.
    """
    from leadscore.learn.boosting import BoostedClassifier
    from leadscore.learn.scorecard import Scorecard

    source = Path(path)
    content = _read(source)
    try:
        manifest = json.loads(content[MANIFEST])
    except (KeyError, ValueError) as exc:
        raise _not_learned(source, f"no readable {MANIFEST} ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise _not_learned(source, f"{MANIFEST} is not a leadscore learned model")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise LeadscoreError(
            ErrorCode.UNREADABLE_FILE,
            f"{source} was written by a newer leadscore (format {manifest['format_version']}).",
            hint="Upgrade leadscore to read it.",
        )
    booster_data: dict[str, Any] = dict(manifest["booster"])
    names = booster_data.pop("files")
    try:
        booster_data["boosters"] = [content[name].decode() for name in names]
        points_text = content[MODEL_FILE].decode()
        report = pacsv.read_csv(io.BytesIO(content[REPORT_FILE]))
    except KeyError as exc:
        raise _not_learned(source, f"the file {exc.args[0]} is missing") from None
    return Learned(
        features=[Feature.from_dict(f) for f in manifest["features"]],
        derived=list(manifest["derived"]),
        booster=BoostedClassifier.from_dict(booster_data),
        card=Scorecard.from_dict(manifest["scorecard"]),
        card_features=[int(j) for j in manifest["card_features"]],
        points_model=parse_model(points_text, f"{source}/{MODEL_FILE}"),
        points_text=points_text,
        conversion=report,
        percentiles=np.asarray(manifest["percentiles"], dtype=np.float64),
        settings=dict(manifest["settings"]),
        metadata=dict(manifest["metadata"]),
    )


def _read(source: Path) -> dict[str, bytes]:
    if source.is_dir():
        return {p.name: p.read_bytes() for p in source.iterdir() if p.is_file()}
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            return {
                Path(info.filename).name: archive.read(info)
                for info in archive.infolist()
                if not info.is_dir()
            }
    if not source.exists():
        raise LeadscoreError(
            ErrorCode.UNREADABLE_FILE,
            f"Cannot read the learned model {source}: it does not exist.",
            hint="Check the path; `leadscore learn --out` writes one.",
        )
    raise _not_learned(source, "it is neither a directory nor a .zip archive")


def _not_learned(source: Path, why: str) -> LeadscoreError:
    return LeadscoreError(
        ErrorCode.UNREADABLE_FILE,
        f"{source} is not a learned model: {why}.",
        hint="Give the directory or .zip written by `leadscore learn --out`.",
    )
