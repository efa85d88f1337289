"""leadscore: lead scoring compiled to one query, explained point by point.

>>> import leadscore
>>> sorted(name for name in leadscore.__all__)[:3]
['Explanation', 'LeadscoreError', 'Model']
"""

from leadscore.api import Explanation, as_of_instant, explain, score, score_file
from leadscore.errors import ErrorCode, LeadscoreError
from leadscore.model import Model, load_model

__version__ = "0.1.0"
__all__ = [
    "ErrorCode",
    "Explanation",
    "LeadscoreError",
    "Model",
    "as_of_instant",
    "explain",
    "load_model",
    "score",
    "score_file",
]
