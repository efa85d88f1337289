"""Compile models to queries and run them (DuckDB embedded by default)."""
