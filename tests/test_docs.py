"""Docs are part of the product: every key, operator and command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from pydantic import BaseModel

import leadscore
from leadscore.cli import app
from leadscore.model import schema
from leadscore.model.conditions import OPERATORS

ROOT = Path(__file__).parent.parent
MODEL_DOC = (ROOT / "docs" / "model.md").read_text()
CLI_DOC = (ROOT / "docs" / "cli.md").read_text()


def model_keys() -> set[str]:
    keys = set()
    for obj in vars(schema).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            keys |= {info.alias or name for name, info in obj.model_fields.items()}
    return keys


@pytest.mark.parametrize("key", sorted(model_keys()))
def test_every_model_file_key_is_documented(key):
    assert f"`{key}`" in MODEL_DOC


@pytest.mark.parametrize("operator", OPERATORS)
def test_every_operator_is_documented(operator):
    assert re.search(rf"^\| `{operator}` \|", MODEL_DOC, re.MULTILINE)


COMMANDS = sorted(typer.main.get_group(app).commands)


def test_the_command_list_is_read_from_the_app():
    assert {"score", "explain", "validate", "clean", "demo"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented(command):
    assert f"## `leadscore {command}`" in CLI_DOC


def test_the_model_doc_example_is_the_tested_lathes_model():
    example = MODEL_DOC.split("```yaml\n")[1].split("```")[0]
    doc_model = leadscore.model.parse_model(example, "docs/model.md")
    tested = leadscore.load_model(ROOT / "tests" / "data" / "lathes.yaml")
    assert doc_model == tested
