"""Conflict-resolution bypasses: every form that replaces or rewrites a row is refused.

SQLite's ``REPLACE`` / ``INSERT OR REPLACE`` delete the conflicting row without firing DELETE
triggers (``recursive_triggers`` is off unless the client turns it on), so before revision 0009 the
BEFORE INSERT guards saw an innocent new row. Each governed table is attacked with every
conflict-resolution form its backend accepts — on SQLite ``REPLACE``, ``INSERT OR REPLACE``,
``INSERT … ON CONFLICT DO UPDATE``, an explicit-rowid replace and ``UPDATE OR REPLACE`` (onto
another row's rowid or key); on PostgreSQL ``ON CONFLICT DO UPDATE`` and ``MERGE`` — and each
attempt must fail in the database with the guard's message and leave every governed table as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from gov_attacks import (
    GOVERNED_TABLES,
    KEY_1,
    MALLORY_PUBLIC,
    Workspace,
    build_workspace,
    refused,
    table_rows,
)

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.db.schema import APPEND_ONLY_TABLES

APPEND_ONLY = ("governance_events", "eligibility_reports", "artifact_lineage", "artifact_edges")
SQLITE_FORMS = (
    "REPLACE",
    "INSERT OR REPLACE",
    "UPSERT",
    "INSERT OR REPLACE (rowid)",
    "UPDATE OR REPLACE (rowid)",
    "UPDATE OR REPLACE (key)",
)
POSTGRES_FORMS = ("UPSERT", "MERGE UPDATE", "MERGE DELETE")


@dataclass(frozen=True)
class Target:
    """The row a form attacks, the change it tries to make, and a key column it can forge."""

    table: str
    where: str
    changes: dict[str, str]
    key: str


def _targets(ws: Workspace) -> dict[str, Target]:
    return {
        "governance_events": Target(
            "governance_events", "seq = 1", {"actor": "'mallory'"}, "event_id"
        ),
        "eligibility_reports": Target(
            "eligibility_reports", f"report_id = '{ws.failed_report}'", {"passed": "1"}, "report_id"
        ),
        "artifact_lineage": Target(
            "artifact_lineage",
            "run_instance_id = 'run-weak' AND logical_name = 'bundle/momentum.json'",
            {"artifact_sha256": f"'{'f' * 64}'"},
            "logical_name",
        ),
        "artifact_edges": Target(
            "artifact_edges",
            "run_instance_id = 'run-weak' AND edge_type = 'uses_dataset'",
            {"created_at": "'2030-01-01T00:00:00Z'"},
            "dst_ref",
        ),
        "promotion_candidates": Target(
            "promotion_candidates",
            f"candidate_id = '{ws.accepted}'",
            {"status": "'exploratory'", "eligibility_report_id": "NULL", "status_reason": "NULL"},
            "candidate_id",
        ),
        "signing_keys": Target(
            "signing_keys", f"key_id = '{KEY_1}'", {"public_key": f"'{MALLORY_PUBLIC}'"}, "key_id"
        ),
    }


def _columns(engine: sa.Engine, table: str) -> list[str]:
    return [column["name"] for column in sa.inspect(engine).get_columns(table)]


def _primary_key(engine: sa.Engine, table: str) -> list[str]:
    return list(sa.inspect(engine).get_pk_constraint(table)["constrained_columns"])


def _copy(columns: list[str], changes: dict[str, str]) -> str:
    return ", ".join(changes.get(column, column) for column in columns)


def _statement(engine: sa.Engine, target: Target, form: str) -> str:
    table, where = target.table, target.where
    columns = _columns(engine, table)
    names = ", ".join(columns)
    copied = _copy(columns, target.changes)
    other = f"(SELECT MAX(rowid) FROM {table} WHERE NOT ({where}))"
    if form in ("REPLACE", "INSERT OR REPLACE"):
        return f"{form} INTO {table} ({names}) SELECT {copied} FROM {table} WHERE {where}"
    if form == "UPSERT":
        updates = ", ".join(f"{column} = excluded.{column}" for column in target.changes)
        conflict = ", ".join(_primary_key(engine, table))
        return (
            f"INSERT INTO {table} ({names}) SELECT {copied} FROM {table} WHERE {where} "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
        )
    if form == "INSERT OR REPLACE (rowid)":
        # A new key on an existing rowid: the row at that rowid would be deleted silently.
        forged = _copy(columns, {**target.changes, target.key: f"'forged-' || {target.key}"})
        return (
            f"INSERT OR REPLACE INTO {table} (rowid, {names}) "
            f"SELECT rowid, {forged} FROM {table} WHERE {where}"
        )
    if form == "UPDATE OR REPLACE (rowid)":
        return f"UPDATE OR REPLACE {table} SET rowid = {other} WHERE {where}"
    if form == "UPDATE OR REPLACE (key)":
        key = f"(SELECT {target.key} FROM {table} WHERE rowid = {other})"
        return f"UPDATE OR REPLACE {table} SET {target.key} = {key} WHERE {where}"
    if form == "MERGE UPDATE":
        updates = ", ".join(f"{column} = {value}" for column, value in target.changes.items())
        return (
            f"MERGE INTO {table} AS t USING (SELECT 1 AS one) AS s ON ({where}) "
            f"WHEN MATCHED THEN UPDATE SET {updates}"
        )
    if form == "MERGE DELETE":
        return (
            f"MERGE INTO {table} AS t USING (SELECT 1 AS one) AS s ON ({where}) "
            "WHEN MATCHED THEN DELETE"
        )
    raise AssertionError(form)


def _expected(engine: sa.Engine, table: str, form: str) -> str:
    """The refusal each backend gives for ``form`` on ``table``."""
    # Revision 0012's insert guard on signing_keys sees the row an insert form proposes before
    # any conflict is resolved: a forged id, or someone else's key under this id, is refused there.
    if table == "signing_keys" and form == "INSERT OR REPLACE (rowid)":
        return "signing_keys: key_id must be the SHA-256 of the public key"
    if table == "signing_keys" and form == "UPSERT" and engine.dialect.name == "postgresql":
        return "signing_keys: key_id must be the SHA-256 of the public key"
    if engine.dialect.name == "sqlite":
        if form.startswith("UPDATE OR REPLACE"):
            if table in APPEND_ONLY:
                return f"{table} is append-only: UPDATE is not allowed"
            if form.endswith("(rowid)"):
                return f"{table}: rowid is immutable"
            return "immutable"
        return f"{table}: a row with this key already exists"
    if table == "governance_events" and form == "UPSERT":
        return "seq must extend the tenant chain"  # its INSERT guard fires before the conflict
    if table in APPEND_ONLY:
        return f"{table} is append-only"
    if form == "MERGE DELETE":
        return f"{table} rows cannot be deleted"
    if table == "promotion_candidates":
        return "an accepted row changes only to revoked"
    return "signing_keys: key identity and material are immutable"


@pytest.fixture
def ws(backend_engine: sa.Engine, store: ArtifactStore) -> Workspace:
    return build_workspace(backend_engine, store)


@pytest.mark.parametrize("form", sorted(set(SQLITE_FORMS) | set(POSTGRES_FORMS)))
@pytest.mark.parametrize("table", GOVERNED_TABLES)
def test_every_conflict_form_is_refused_on_every_governed_table(
    ws: Workspace, table: str, form: str
) -> None:
    forms = SQLITE_FORMS if ws.engine.dialect.name == "sqlite" else POSTGRES_FORMS
    if form not in forms:
        # Not valid SQL on this backend: it must fail as a syntax error, never change a row.
        statement = _statement(ws.engine, _targets(ws)[table], form)
        refused(ws.engine, statement, "syntax error")
        return
    target = _targets(ws)[table]
    assert table_rows(ws.engine, table), f"{table} has no row to attack"
    refused(ws.engine, _statement(ws.engine, target, form), _expected(ws.engine, table, form))


def test_an_identical_reinsert_is_refused_not_silently_ignored(ws: Workspace) -> None:
    # DO NOTHING / OR IGNORE on an identical row would change nothing; refusing it too keeps one
    # rule (a key is written once) and the application never relies on either for these tables.
    forms = (
        ["INSERT OR IGNORE INTO {t} SELECT * FROM {t} WHERE {w}"]
        if ws.engine.dialect.name == "sqlite"
        else []
    ) + ["INSERT INTO {t} SELECT * FROM {t} WHERE {w} ON CONFLICT DO NOTHING"]
    target = _targets(ws)["eligibility_reports"]
    for form in forms:
        statement = form.format(t=target.table, w=target.where)
        if ws.engine.dialect.name == "sqlite":
            refused(ws.engine, statement, "a row with this key already exists")
        else:
            before = table_rows(ws.engine, target.table)
            with ws.engine.begin() as connection:
                assert connection.exec_driver_sql(statement).rowcount == 0
            assert table_rows(ws.engine, target.table) == before


def test_session_options_cannot_switch_the_guards_off(ws: Workspace) -> None:
    """T1 chooses its own session settings: SQLite pragmas, PostgreSQL's replica role."""
    if ws.engine.dialect.name == "sqlite":
        options = [
            "PRAGMA recursive_triggers = OFF",
            "PRAGMA foreign_keys = OFF",
            "PRAGMA ignore_check_constraints = ON",
        ]
        with ws.engine.connect() as connection:  # pragmas cannot change inside a transaction
            for option in options:
                connection.exec_driver_sql(option)
            connection.commit()
            before = {table: table_rows(ws.engine, table) for table in GOVERNED_TABLES}
            target = _targets(ws)["promotion_candidates"]
            with pytest.raises(sa.exc.DBAPIError) as caught:
                connection.exec_driver_sql(_statement(ws.engine, target, "REPLACE"))
            connection.rollback()
        assert "already exists" in str(caught.value)
        assert {table: table_rows(ws.engine, table) for table in GOVERNED_TABLES} == before
        return
    replica = "SET LOCAL session_replication_role = replica"
    for statement, fragment in (
        ("UPDATE eligibility_reports SET passed = 1", "eligibility_reports is append-only"),
        ("DELETE FROM governance_events", "governance_events is append-only"),
        ("TRUNCATE artifact_edges", "artifact_edges is append-only"),
        (
            f"UPDATE promotion_candidates SET status = 'exploratory', "
            f"eligibility_report_id = NULL WHERE candidate_id = '{ws.accepted}'",
            "an accepted row changes only to revoked",
        ),
        ("DELETE FROM signing_keys", "signing_keys rows cannot be deleted"),
    ):
        refused(ws.engine, [replica, statement], fragment)


def _guarded_tables(connection: sa.Connection) -> set[str]:
    """Tables revision 0009 guards, read from the database (so tables added later are covered)."""
    if connection.dialect.name == "sqlite":
        sql = (
            "SELECT tbl_name FROM sqlite_master "
            "WHERE type = 'trigger' AND name = 'trg_' || tbl_name || '_no_replace'"
        )
    else:
        sql = (
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgname = 'trg_' || c.relname || '_no_delete'"
        )
    return set(connection.exec_driver_sql(sql).scalars())


def test_every_append_only_and_governed_table_is_guarded(ws: Workspace) -> None:
    with ws.engine.connect() as connection:
        guarded = _guarded_tables(connection)
    assert set(APPEND_ONLY_TABLES) | set(GOVERNED_TABLES) <= guarded


def test_the_conflict_guard_covers_every_unique_key(ws: Workspace) -> None:
    """A UNIQUE key added to a guarded table later must be added to its guard too."""
    with ws.engine.connect() as connection:
        tables = sorted(_guarded_tables(connection))
        if ws.engine.dialect.name == "postgresql":
            # No REPLACE on PostgreSQL: a conflict can only UPDATE, and every guarded table's
            # triggers fire in every session mode.
            modes = connection.exec_driver_sql(
                "SELECT DISTINCT t.tgenabled FROM pg_trigger t JOIN pg_class c "
                "ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND c.relname = ANY(%(t)s)",
                {"t": tables},
            ).scalars()
            assert set(modes) == {"A"}
            return
        for table in tables:
            guard = connection.exec_driver_sql(
                f"SELECT sql FROM sqlite_master WHERE name = 'trg_{table}_no_replace'"
            ).scalar_one()
            indexes = connection.exec_driver_sql(f"PRAGMA index_list({table})").mappings().all()
            for index in (row for row in indexes if row["unique"]):
                columns = connection.exec_driver_sql(
                    f"PRAGMA index_info({index['name']})"
                ).mappings()
                probe = " AND ".join(f"{row['name']} = NEW.{row['name']}" for row in columns)
                assert probe in guard, f"{table}: unique key {index['name']} is not guarded"
            definition = connection.exec_driver_sql(
                f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
            ).scalar_one()
            if "WITHOUT ROWID" not in definition.upper():  # rowid tables: the rowid is a key too
                assert "NEW.rowid > 0" in guard
