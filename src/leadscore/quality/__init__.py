"""Data quality: the derived lead fields of SPEC §2 and the ``leadscore clean`` summary.

The engine calls :func:`derive` on the leads table before scoring; the CLI's
``clean`` command is a thin shell over :func:`clean`.
"""

from leadscore.quality.derive import DERIVED_FIELDS, ROW_ORDER_COLUMN, derive

__all__ = ["DERIVED_FIELDS", "ROW_ORDER_COLUMN", "derive"]
