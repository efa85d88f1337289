"""Data quality: derived lead fields (SPEC §2)."""
