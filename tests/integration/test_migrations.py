"""One migration history: idempotent, reversible, in step with db.schema, never run by reads."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from crypto_analyzer.core.errors import SchemaNotReadyError
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import (
    alembic_config,
    require_head,
    schema_drift,
    schema_status,
    upgrade,
)
from crypto_analyzer.db.schema import metadata


def _schema_dump(engine: sa.Engine) -> list[tuple[str, ...]]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
            )
            return [tuple(str(v) for v in row) for row in rows]
        rows = connection.exec_driver_sql(
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = 'public' "
            "UNION ALL SELECT event_object_table, trigger_name, action_timing, "
            "event_manipulation, action_statement FROM information_schema.triggers "
            "UNION ALL SELECT table_name, constraint_name, constraint_type, '', '' "
            "FROM information_schema.table_constraints WHERE table_schema = 'public' "
            "AND constraint_name NOT LIKE '%%_not_null' "  # NOT NULL names embed OIDs
            "ORDER BY 1, 2, 3, 4"
        )
        return [tuple(str(v) for v in row) for row in rows]


def _alembic_version(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return [
            row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        ]


def test_upgrade_twice_changes_nothing(backend_url: str) -> None:
    engine = create_db_engine(backend_url)
    upgrade(engine)
    first = _schema_dump(engine)
    upgrade(engine)
    assert _schema_dump(engine) == first
    assert _alembic_version(engine) == [schema_status(engine).head]
    assert len({row[2] if engine.dialect.name == "sqlite" else row[0] for row in first}) >= len(
        metadata.tables
    )
    engine.dispose()


def test_schema_matches_the_table_definitions(backend_engine: sa.Engine) -> None:
    assert schema_drift(backend_engine) == []
    tables = set(sa.inspect(backend_engine).get_table_names())
    assert set(metadata.tables) <= tables
    for table in metadata.tables.values():
        assert "tenant_id" in table.columns, table.name
        assert table.columns["tenant_id"].server_default is not None


def test_downgrade_then_upgrade_round_trips(backend_url: str) -> None:
    engine = create_db_engine(backend_url)
    upgrade(engine)
    before = _schema_dump(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    leftover = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    assert leftover == set()
    upgrade(engine)
    assert _schema_dump(engine) == before
    engine.dispose()


def test_a_half_created_database_converges(sqlite_url: str) -> None:
    # A killed first migration can leave tables without the version row: upgrade must finish it.
    engine = create_db_engine(sqlite_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE tenants (tenant_id TEXT DEFAULT 'default' NOT NULL, name TEXT NOT NULL, "
            "created_at TEXT NOT NULL, CONSTRAINT pk_tenants PRIMARY KEY (tenant_id)) STRICT"
        )
    upgrade(engine)
    assert schema_status(engine).at_head
    assert schema_drift(engine) == []
    engine.dispose()


def test_reads_never_run_ddl(sqlite_url: str) -> None:
    engine = create_db_engine(sqlite_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE unrelated (x INTEGER)")
    status = schema_status(engine)
    assert status.current is None and status.pending
    with pytest.raises(SchemaNotReadyError, match="crypto-analyzer init"):
        require_head(engine)
    assert sa.inspect(engine).get_table_names() == ["unrelated"]
    engine.dispose()
