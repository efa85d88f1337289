"""Helpers for the data-quality tests: derive on DuckDB through Ibis."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
import pyarrow as pa
import pytest

from leadscore.quality import derive


@pytest.fixture(scope="session")
def con() -> Any:
    return ibis.duckdb.connect()


def derive_rows(
    con: Any, columns: dict[str, list[Any]] | pa.Table, fields: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """Derive the fields of an in-memory leads table; rows in input order."""
    data = columns if isinstance(columns, pa.Table) else pa.table(columns)
    data = data.append_column("__order", pa.array(range(data.num_rows), pa.int64()))
    out = derive(ibis.memtable(data), fields)
    rows = con.to_pyarrow(out).to_pylist()
    return sorted(rows, key=lambda row: row["__order"])
