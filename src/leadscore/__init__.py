"""leadscore: lead scoring compiled to one query, explained point by point.

>>> import leadscore
>>> model = leadscore.load_model({"name": "m", "fit": {"rules": [{"id": "cto",
...     "when": {"job_title": {"in": ["cto", "ceo"]}}, "points": 25}]}})
>>> leads = {"lead_id": ["a", "b"], "job_title": ["CTO ", None]}
>>> import pyarrow as pa
>>> leadscore.score(model, pa.table(leads), as_of="2025-06-01").column("score").to_pylist()
[25.0, 0.0]
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadscore.api import Explanation, clean, explain, score
    from leadscore.errors import ErrorCode, LeadscoreError
    from leadscore.instants import as_of_instant
    from leadscore.learn import Learned, learn, load_learned, predict
    from leadscore.learn.evaluation import Evaluation, evaluate
    from leadscore.model import Model, load_model
    from leadscore.plans import RescorePlan
    from leadscore.runs import score_file

# Each name is imported when first used: `leadscore score` replaying a kept run
# (leadscore.launch) starts without ibis, pyarrow or pydantic.
_HOMES = {
    "leadscore.api": ("Explanation", "clean", "explain", "score"),
    "leadscore.instants": ("as_of_instant",),
    "leadscore.errors": ("ErrorCode", "LeadscoreError"),
    "leadscore.plans": ("RescorePlan",),
    "leadscore.learn": ("Learned", "learn", "load_learned", "predict"),
    "leadscore.learn.evaluation": ("Evaluation", "evaluate"),
    "leadscore.model": ("Model", "load_model"),
    "leadscore.runs": ("score_file",),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}

__version__ = "0.1.0"
__all__ = [
    "ErrorCode",
    "Evaluation",
    "Explanation",
    "LeadscoreError",
    "Learned",
    "Model",
    "RescorePlan",
    "as_of_instant",
    "clean",
    "evaluate",
    "explain",
    "learn",
    "load_learned",
    "load_model",
    "predict",
    "score",
    "score_file",
]


def __getattr__(name: str) -> Any:
    """The public names, imported on first use (PEP 562)."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'leadscore' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])


class _Package(ModuleType):
    """``leadscore.learn`` stays the function when the subpackage of that name loads
    (the import system sets a loaded subpackage as an attribute of its parent)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _HOME and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
