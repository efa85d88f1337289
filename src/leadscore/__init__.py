"""leadscore: lead scoring compiled to one query, explained point by point.

>>> import leadscore
>>> model = leadscore.load_model({"name": "m", "fit": {"rules": [{"id": "cto",
...     "when": {"job_title": {"in": ["cto", "ceo"]}}, "points": 25}]}})
>>> leads = {"lead_id": ["a", "b"], "job_title": ["CTO ", None]}
>>> import pyarrow as pa
>>> leadscore.score(model, pa.table(leads), as_of="2025-06-01").column("score").to_pylist()
[25.0, 0.0]
"""

from leadscore.api import Explanation, as_of_instant, clean, explain, score, score_file
from leadscore.errors import ErrorCode, LeadscoreError
from leadscore.incremental import RescorePlan
from leadscore.learn import Learned, learn, load_learned, predict
from leadscore.learn.evaluation import Evaluation, evaluate
from leadscore.model import Model, load_model

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
