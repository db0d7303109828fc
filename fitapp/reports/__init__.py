"""Unit reports: SQL aggregates (queries) -> pure scoring -> exports (house-style.md)."""
