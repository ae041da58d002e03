"""Point-in-time market data: restatements keep history; dataset ids reproducible as of a watermark.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Until now a re-import with restated prices overwrote ``bars`` and ``instruments`` rows in place
(the writer's ``ON CONFLICT DO UPDATE``), so the dataset an accepted result was computed on could
vanish and never be reproduced (DESIGN §3 invariant 11). This revision adds, per dialect:

* ``market_revisions``: one row per write transaction that changed market data, numbered per
  tenant 1, 2, 3 …; append-only, and an INSERT must take the next number (which also refuses an
  existing key: SQLite's ``INSERT OR REPLACE`` deletes the old row without firing DELETE
  triggers).
* ``revision`` on ``bars`` and ``instruments`` (0 for rows written before this revision): the
  market revision that last wrote the row.
* ``bars_history`` / ``instruments_history``: every column of the live table plus the revision and
  ingest run that replaced the version; append-only, and an INSERT must not name a stored version.
* On ``bars`` and ``instruments``: an UPDATE keeps the key and carries the tenant's next revision
  (the one the writer is about to record); after it, the replaced version is copied into history;
  DELETE (and TRUNCATE on PostgreSQL) is refused. There is no INSERT trigger on the live tables:
  the bulk insert path must stay fast.
* ``runs.data_watermark`` (the watermark a report's dataset id was taken at) and
  ``ingest_runs.last_revision`` (the highest revision an ingest run recorded).

Self-contained like the earlier revisions; guarded so running it twice converges. SQLite's
``RAISE`` takes only a literal message, so SQLite messages name the rule while PostgreSQL's also
quote the values; both start with the same text.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INT64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FLOAT64: sa.Double[float] = sa.Double().with_variant(sa.REAL(), "sqlite")
STRICT = {"sqlite_strict": True}

# Frozen at the time of this revision; db/market_revisions.py carries the same prefix.
REVISION_LOCK_PREFIX = "crypto_analyzer.market_revisions:"

ADDED_COLUMNS = (
    ("bars", "revision", INT64, False),
    ("instruments", "revision", INT64, False),
    ("runs", "data_watermark", INT64, True),
    ("ingest_runs", "last_revision", INT64, True),
)

# Live table → (columns in stored order as (name, type, nullable), primary key).
_BAR_COLUMNS = (
    ("tenant_id", sa.Text(), False),
    ("instrument_id", sa.Text(), False),
    ("freq", sa.Text(), False),
    ("bar_open_ms", INT64, False),
    ("open", FLOAT64, False),
    ("high", FLOAT64, False),
    ("low", FLOAT64, False),
    ("close", FLOAT64, False),
    ("volume", FLOAT64, False),
    ("vwap", FLOAT64, True),
    ("log_return", FLOAT64, True),
    ("source", sa.Text(), False),
    ("ingest_run_id", sa.Text(), False),
    ("provider", sa.Text(), False),
    ("fetched_at", sa.Text(), False),
    ("status", sa.Text(), False),
    ("revision", INT64, False),
)
_INSTRUMENT_COLUMNS = (
    ("tenant_id", sa.Text(), False),
    ("instrument_id", sa.Text(), False),
    ("venue", sa.Text(), False),
    ("symbol", sa.Text(), False),
    ("base", sa.Text(), True),
    ("quote", sa.Text(), True),
    ("kind", sa.Text(), False),
    ("chain", sa.Text(), True),
    ("pair_address", sa.Text(), True),
    ("created_at", sa.Text(), False),
    ("ingest_run_id", sa.Text(), False),
    ("revision", INT64, False),
)
VERSIONED = {
    "bars": (_BAR_COLUMNS, ("tenant_id", "freq", "instrument_id", "bar_open_ms")),
    "instruments": (_INSTRUMENT_COLUMNS, ("tenant_id", "instrument_id")),
}
APPEND_ONLY = ("market_revisions", "bars_history", "instruments_history")

# Triggers created on both dialects (PostgreSQL adds the TRUNCATE ones below).
TRIGGERS = (
    *((f"trg_{t}_no_{a}", t) for t in APPEND_ONLY for a in ("update", "delete")),
    ("trg_market_revisions_guard_insert", "market_revisions"),
    ("trg_bars_history_guard_insert", "bars_history"),
    ("trg_instruments_history_guard_insert", "instruments_history"),
    *((f"trg_{t}_{name}", t) for t in VERSIONED for name in ("guard_update", "keep_history")),
    *((f"trg_{t}_no_delete", t) for t in VERSIONED),
)
PG_ONLY_TRIGGERS = tuple((f"trg_{t}_no_truncate", t) for t in (*APPEND_ONLY, *VERSIONED))
PG_FUNCTIONS = (
    "ca_guard_market_revision_insert()",
    "ca_reject_market_delete()",
    *(f"ca_{t}_history_guard_insert()" for t in VERSIONED),
    *(f"ca_{t}_guard_update()" for t in VERSIONED),
    *(f"ca_{t}_keep_history()" for t in VERSIONED),
)

_NEXT_SQLITE = (
    "COALESCE((SELECT MAX(revision) FROM market_revisions WHERE tenant_id = NEW.tenant_id), 0) + 1"
)
_MSG_REVISION = "market_revisions: revision must extend the tenant's revisions by one"
_MSG_KEY = "{table}: primary-key columns are immutable; restate the values under the same key"
_MSG_NEXT = (
    "{table}: an update must carry the next market revision (the tenant's latest + 1); "
    "write market data through the provenance writer"
)
_MSG_DELETE = "{table}: market data is point-in-time: restate rows, never delete them"
_MSG_STORED = "{table}_history is append-only: INSERT of a stored version is not allowed"
_MSG_ORPHAN = (
    "{table}_history: a history row records the version an update of {table} just replaced"
)


def _names(table: str) -> list[str]:
    return [name for name, _, _ in VERSIONED[table][0]]


def _key(table: str) -> tuple[str, ...]:
    return VERSIONED[table][1]


def _has_table(name: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(name)


def _columns(table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}


def _sqlite(text: str) -> str:
    return text.replace("'", "''")


# -- tables -------------------------------------------------------------------------------------


def _add_columns() -> None:
    for table, name, column_type, nullable in ADDED_COLUMNS:
        if name not in _columns(table):
            default = None if nullable else "0"
            op.add_column(
                table, sa.Column(name, column_type, nullable=nullable, server_default=default)
            )


def _create_tables() -> None:
    if not _has_table("market_revisions"):
        op.create_table(
            "market_revisions",
            sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
            sa.Column("revision", INT64, nullable=False),
            sa.Column("ingest_run_id", sa.Text(), nullable=False),
            sa.Column("created_at", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(
                ["tenant_id", "ingest_run_id"],
                ["ingest_runs.tenant_id", "ingest_runs.ingest_run_id"],
                name=op.f("fk_market_revisions_tenant_id_ingest_run_id_ingest_runs"),
            ),
            sa.PrimaryKeyConstraint("tenant_id", "revision", name=op.f("pk_market_revisions")),
            **STRICT,
        )
    for table, (columns, key) in VERSIONED.items():
        history = f"{table}_history"
        if not _has_table(history):
            options = {"sqlite_with_rowid": False} if table == "bars" else {}
            op.create_table(
                history,
                *(
                    sa.Column(
                        name,
                        column_type,
                        nullable=nullable,
                        server_default="default" if name == "tenant_id" else None,
                    )
                    for name, column_type, nullable in columns
                ),
                sa.Column("superseded_revision", INT64, nullable=False),
                sa.Column("superseded_by_ingest_run_id", sa.Text(), nullable=False),
                sa.PrimaryKeyConstraint(*key, "revision", name=op.f(f"pk_{history}")),
                **STRICT,
                **options,
            )
        index = f"ix_{history}_tenant_id_superseded_revision"
        existing = {found["name"] for found in sa.inspect(op.get_bind()).get_indexes(history)}
        if index not in existing:
            op.create_index(index, history, ["tenant_id", "superseded_revision"], unique=False)


def _drop_tables() -> None:
    for history in ("instruments_history", "bars_history", "market_revisions"):
        if _has_table(history):
            op.drop_table(history)
    for table, name, _, _ in reversed(ADDED_COLUMNS):
        if _has_table(table) and name in _columns(table):
            op.drop_column(table, name)


# -- SQLite -------------------------------------------------------------------------------------


def _sqlite_triggers() -> list[str]:
    statements = []
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS trg_{table}_no_{action.lower()} "
                f"BEFORE {action} ON {table} BEGIN SELECT RAISE(ABORT, "
                f"'{table} is append-only: {action} is not allowed'); END"
            )
    statements.append(
        "CREATE TRIGGER IF NOT EXISTS trg_market_revisions_guard_insert "
        "BEFORE INSERT ON market_revisions BEGIN "
        f"SELECT RAISE(ABORT, '{_sqlite(_MSG_REVISION)}') "
        f"WHERE NEW.revision IS NOT {_NEXT_SQLITE}; END"
    )
    for table in VERSIONED:
        names, key = _names(table), _key(table)
        same_key = " AND ".join(f"h.{c} = NEW.{c}" for c in key)
        live_key = " AND ".join(f"l.{c} = NEW.{c}" for c in key)
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS trg_{table}_history_guard_insert "
            f"BEFORE INSERT ON {table}_history BEGIN "
            f"SELECT RAISE(ABORT, '{_sqlite(_MSG_STORED.format(table=table))}') "
            f"WHERE EXISTS (SELECT 1 FROM {table}_history AS h "
            f"WHERE {same_key} AND h.revision = NEW.revision); "
            f"SELECT RAISE(ABORT, '{_sqlite(_MSG_ORPHAN.format(table=table))}') "
            f"WHERE NEW.superseded_revision IS NOT {_NEXT_SQLITE} "
            f"OR NEW.revision >= NEW.superseded_revision "
            f"OR NOT EXISTS (SELECT 1 FROM {table} AS l WHERE {live_key} "
            "AND l.revision = NEW.superseded_revision "
            "AND l.ingest_run_id = NEW.superseded_by_ingest_run_id); END"
        )
        moved = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in key)
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS trg_{table}_guard_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{_sqlite(_MSG_KEY.format(table=table))}') "
            f"WHERE {moved}; "
            f"SELECT RAISE(ABORT, '{_sqlite(_MSG_NEXT.format(table=table))}') "
            f"WHERE NEW.revision IS NOT {_NEXT_SQLITE}; END"
        )
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS trg_{table}_keep_history AFTER UPDATE ON {table} "
            "WHEN OLD.revision IS NOT NEW.revision BEGIN "
            f"INSERT INTO {table}_history ({', '.join(names)}, superseded_revision, "
            "superseded_by_ingest_run_id) "
            f"VALUES ({', '.join(f'OLD.{c}' for c in names)}, NEW.revision, NEW.ingest_run_id); "
            "END"
        )
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS trg_{table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{_sqlite(_MSG_DELETE.format(table=table))}'); END"
        )
    return statements


# -- PostgreSQL ---------------------------------------------------------------------------------

_PG_NEXT = (
    "SELECT COALESCE(MAX(revision), 0) + 1 INTO expected FROM market_revisions "
    "WHERE tenant_id = NEW.tenant_id;"
)


def _pg_quote(text: str) -> str:
    return text.replace("'", "''")


def _pg_functions() -> list[str]:
    functions = [
        f"""
CREATE OR REPLACE FUNCTION ca_guard_market_revision_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    expected BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('{REVISION_LOCK_PREFIX}' || NEW.tenant_id, 0));
    {_PG_NEXT}
    IF NEW.revision IS DISTINCT FROM expected THEN
        RAISE EXCEPTION '{_pg_quote(_MSG_REVISION)} (%, got %)', expected, NEW.revision
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$
""",
        """
CREATE OR REPLACE FUNCTION ca_reject_market_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: market data is point-in-time: restate rows, never delete them (% refused)',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END
$$
""",
    ]
    for table in VERSIONED:
        names, key = _names(table), _key(table)
        same_key = " AND ".join(f"h.{c} = NEW.{c}" for c in key)
        live_key = " AND ".join(f"l.{c} = NEW.{c}" for c in key)
        moved = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in key)
        functions.append(f"""
CREATE OR REPLACE FUNCTION ca_{table}_history_guard_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    expected BIGINT;
BEGIN
    IF EXISTS (SELECT 1 FROM {table}_history AS h WHERE {same_key}
            AND h.revision = NEW.revision) THEN
        RAISE EXCEPTION '{_pg_quote(_MSG_STORED.format(table=table))} (revision %)',
            NEW.revision USING ERRCODE = 'restrict_violation';
    END IF;
    {_PG_NEXT}
    IF NEW.superseded_revision IS DISTINCT FROM expected
            OR NEW.revision >= NEW.superseded_revision
            OR NOT EXISTS (SELECT 1 FROM {table} AS l WHERE {live_key}
                AND l.revision = NEW.superseded_revision
                AND l.ingest_run_id = NEW.superseded_by_ingest_run_id) THEN
        RAISE EXCEPTION '{_pg_quote(_MSG_ORPHAN.format(table=table))} (revision %, superseded %)',
            NEW.revision, NEW.superseded_revision USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$
""")
        functions.append(f"""
CREATE OR REPLACE FUNCTION ca_{table}_guard_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    expected BIGINT;
BEGIN
    IF {moved} THEN
        RAISE EXCEPTION '{_pg_quote(_MSG_KEY.format(table=table))}'
            USING ERRCODE = 'check_violation';
    END IF;
    {_PG_NEXT}
    IF NEW.revision IS DISTINCT FROM expected THEN
        RAISE EXCEPTION '{_pg_quote(_MSG_NEXT.format(table=table))} (%, got %)',
            expected, NEW.revision USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$
""")
        functions.append(f"""
CREATE OR REPLACE FUNCTION ca_{table}_keep_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {table}_history ({", ".join(names)}, superseded_revision,
        superseded_by_ingest_run_id)
    VALUES ({", ".join(f"OLD.{c}" for c in names)}, NEW.revision, NEW.ingest_run_id);
    RETURN NULL;
END
$$
""")
    return functions


def _pg_triggers() -> list[tuple[str, str, str]]:
    """(name, table, everything after ``CREATE TRIGGER name``)."""
    found = []
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            found.append(
                (
                    f"trg_{table}_no_{action.lower()}",
                    table,
                    f"BEFORE {action} ON {table} FOR EACH ROW "
                    "EXECUTE FUNCTION ca_reject_append_only_change()",
                )
            )
        found.append(
            (
                f"trg_{table}_no_truncate",
                table,
                f"BEFORE TRUNCATE ON {table} FOR EACH STATEMENT "
                "EXECUTE FUNCTION ca_reject_append_only_change()",
            )
        )
    found.append(
        (
            "trg_market_revisions_guard_insert",
            "market_revisions",
            "BEFORE INSERT ON market_revisions FOR EACH ROW "
            "EXECUTE FUNCTION ca_guard_market_revision_insert()",
        )
    )
    for table in VERSIONED:
        found += [
            (
                f"trg_{table}_history_guard_insert",
                f"{table}_history",
                f"BEFORE INSERT ON {table}_history FOR EACH ROW "
                f"EXECUTE FUNCTION ca_{table}_history_guard_insert()",
            ),
            (
                f"trg_{table}_guard_update",
                table,
                f"BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION ca_{table}_guard_update()",
            ),
            (
                f"trg_{table}_keep_history",
                table,
                f"AFTER UPDATE ON {table} FOR EACH ROW "
                "WHEN (OLD.revision IS DISTINCT FROM NEW.revision) "
                f"EXECUTE FUNCTION ca_{table}_keep_history()",
            ),
            (
                f"trg_{table}_no_delete",
                table,
                f"BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION ca_reject_market_delete()",
            ),
            (
                f"trg_{table}_no_truncate",
                table,
                f"BEFORE TRUNCATE ON {table} FOR EACH STATEMENT "
                "EXECUTE FUNCTION ca_reject_market_delete()",
            ),
        ]
    return found


# -- upgrade / downgrade ------------------------------------------------------------------------


def upgrade() -> None:
    _add_columns()
    _create_tables()
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _sqlite_triggers():
            op.execute(statement)
    elif dialect == "postgresql":
        # ca_reject_append_only_change() is revision 0001's; this revision only attaches it.
        for function in _pg_functions():
            op.execute(function)
        for name, table, body in _pg_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:  # pragma: no cover - settings accept only these two backends
        raise NotImplementedError(f"point-in-time triggers are not written for {dialect!r}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, _ in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        for name, table in (*TRIGGERS, *PG_ONLY_TRIGGERS):
            if _has_table(table):
                op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    _drop_tables()
