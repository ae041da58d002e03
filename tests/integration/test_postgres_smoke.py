"""Migrations and append-only triggers on a real PostgreSQL server and on SQLite."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crypto_analyzer.db.health import expected_triggers, present_triggers
from crypto_analyzer.db.migrate import schema_drift, schema_status


def test_backend_is_at_head_without_drift(backend_engine: sa.Engine) -> None:
    assert schema_status(backend_engine).at_head
    assert schema_drift(backend_engine) == []
    with backend_engine.connect() as connection:
        assert expected_triggers(backend_engine.dialect.name) <= present_triggers(connection)


@pytest.mark.postgres
def test_postgres_url_goes_through_psycopg(postgres_url: str) -> None:
    from crypto_analyzer.db.engine import create_db_engine

    engine = create_db_engine(postgres_url)
    assert engine.dialect.driver == "psycopg"
    engine.dispose()
