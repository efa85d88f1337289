"""The model file: typed form, loading with located errors, JSON Schema, templates."""

from __future__ import annotations

import json
from importlib import resources

from leadscore.model.conditions import Condition, Tests
from leadscore.model.loading import format_path, load_model, parse_model
from leadscore.model.schema import (
    Disqualify,
    Engagement,
    EngagementRule,
    Fit,
    FitRule,
    InactivityRule,
    Interest,
    Model,
    Stage,
)

TEMPLATES = ("b2b-saas", "industrial", "b2c")


def json_schema() -> str:
    """The JSON Schema of the model file, for editors (``leadscore schema``)."""
    schema = Model.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "leadscore model file"
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def template_text(name: str) -> str:
    """The text of a starter model (``leadscore init NAME``)."""
    return resources.files("leadscore.model").joinpath(f"templates/{name}.yaml").read_text("utf-8")


__all__ = [
    "TEMPLATES",
    "Condition",
    "Disqualify",
    "Engagement",
    "EngagementRule",
    "Fit",
    "FitRule",
    "InactivityRule",
    "Interest",
    "Model",
    "Stage",
    "Tests",
    "format_path",
    "json_schema",
    "load_model",
    "parse_model",
    "template_text",
]
