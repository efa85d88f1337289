"""Data quality: the derived lead fields of SPEC §2 and the ``leadscore clean`` summary.

The engine calls :func:`derive` on the leads table before scoring; the CLI's
``clean`` command is a thin shell over :func:`clean`.
"""

from leadscore.quality.countries import code_for_country
from leadscore.quality.derive import DERIVED_FIELDS, ROW_ORDER_COLUMN, derive
from leadscore.quality.email import is_valid_address
from leadscore.quality.fuzzy import ProbableDuplicate
from leadscore.quality.report import CleanReport, clean
from leadscore.quality.titles import FUNCTIONS, SENIORITIES, classify_title

__all__ = [
    "DERIVED_FIELDS",
    "FUNCTIONS",
    "ROW_ORDER_COLUMN",
    "SENIORITIES",
    "CleanReport",
    "ProbableDuplicate",
    "classify_title",
    "clean",
    "code_for_country",
    "derive",
    "is_valid_address",
]
