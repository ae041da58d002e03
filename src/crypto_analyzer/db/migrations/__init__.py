"""Alembic migration environment and the project's single revision history."""
