"""Compile models to queries and run them (DuckDB embedded by default)."""

from pathlib import Path
from typing import Any, Literal

Engine = Literal["duckdb", "postgres", "spark"]  # where a scoring query runs
Source = str | Path | Any  # a path, or an Arrow table / pandas frame / ibis table
