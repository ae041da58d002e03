"""Revision 0015: the ``reproduced`` event type and ``runs.dataset_tables_json``, on both
dialects — idempotent, the trigger catalog unchanged, and a downgrade that refuses to drop
recorded reproductions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import alembic_config, schema_drift, upgrade
from crypto_analyzer.db.trigger_catalog import snapshot_catalog


def _to(engine: sa.Engine, revision: str, *, down: bool) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def _columns(engine: sa.Engine) -> set[str]:
    return {column["name"] for column in sa.inspect(engine).get_columns("runs")}


def _event(connection: sa.Connection, event_type: str) -> None:
    connection.exec_driver_sql(
        "INSERT INTO governance_events (tenant_id, event_id, seq, candidate_id, event_type, actor,"
        " payload_json, created_at, prev_hash, hash) VALUES ('default', 'evt_x', 0, NULL, "
        f"'{event_type}', 'a', '{{}}', '2025-01-01T00:00:00.000000Z', 'g', 'h')"
    )


def test_0015_round_trips_and_keeps_the_triggers(backend_url: str) -> None:
    engine = create_db_engine(backend_url)
    upgrade(engine, "0012")
    with engine.connect() as connection:
        before = snapshot_catalog(connection)
    assert "dataset_tables_json" not in _columns(engine)
    upgrade(engine)
    upgrade(engine)  # twice: converges
    assert "dataset_tables_json" in _columns(engine)
    assert schema_drift(engine) == []
    with engine.connect() as connection:
        assert snapshot_catalog(connection) == before  # rebuilt table, same triggers
    _to(engine, "0012", down=True)
    assert "dataset_tables_json" not in _columns(engine)
    with pytest.raises(sa.exc.DBAPIError, match=r"(?i)check"), engine.begin() as connection:
        _event(connection, "reproduced")  # the old CHECK is back
    with engine.begin() as connection:
        _event(connection, "restated")  # while the same row of an older type is accepted
    engine.dispose()


def test_0015_downgrade_refuses_while_reproductions_are_recorded(backend_url: str) -> None:
    engine = create_db_engine(backend_url)
    upgrade(engine)
    with engine.begin() as connection:
        _event(connection, "reproduced")
    with pytest.raises(RuntimeError, match="record reproductions"):
        _to(engine, "0012", down=True)
    engine.dispose()
