"""Governance hardening: no conflict-resolution bypass, pinned search_path, triggers always on.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

An adversarial review (threat model T1: a client with DML rights that sets its own session
options) found three ways around the triggers of 0001/0002. This revision closes them, per dialect:

* **SQLite conflict resolution.** ``REPLACE`` / ``INSERT OR REPLACE`` delete the conflicting row
  without firing DELETE triggers (``recursive_triggers`` is off by default and a client chooses its
  own pragmas), so the BEFORE INSERT guards saw an innocent new row. Every governed table gets
  ``trg_<table>_no_replace``: an INSERT whose primary key, UNIQUE key or explicit rowid already
  exists is refused before any conflict clause is consulted — that stops ``REPLACE``,
  ``INSERT OR REPLACE`` and ``INSERT … ON CONFLICT DO UPDATE`` (and makes ``OR IGNORE`` /
  ``DO NOTHING`` an error instead of a silent no-op; the application never relies on either for
  these tables). ``trg_<table>_rowid_positive`` keeps every rowid ≥ 1, so the guard's rowid probe
  can never match the placeholder SQLite gives an unset ``NEW.rowid``. Tables whose rows do change
  (``promotion_candidates``, ``signing_keys``) also get ``trg_<table>_rowid_immutable``, because
  ``UPDATE OR REPLACE … SET rowid = <another row's>`` would otherwise delete that other row.
  ``UPDATE OR REPLACE`` on an append-only table is already refused by its UPDATE trigger.
* **PostgreSQL name resolution.** The guard functions named tables without a schema, so a session
  that created TEMP tables ``eligibility_reports`` / ``governance_events`` (``pg_temp`` is searched
  first) fed them forged rows. Every function is recreated with each table qualified by the schema
  the migration runs in (``current_schema()``, written into the function text) and with
  ``SET search_path = pg_catalog, pg_temp``. Any other ``ca_*`` function that pins no
  ``search_path`` (one a later revision wrote with bare table names) gets
  ``SET search_path = <schema>, pg_temp``: ``pg_temp`` last, so no TEMP table can shadow a real
  one. No function is SECURITY DEFINER: a trigger checks the
  writer's own statement with the writer's own rights (and row-level security), and a definer
  function would be one more object whose owner rights an attacker could borrow.
* **PostgreSQL replica mode.** ``SET session_replication_role = replica`` silently skips ordinary
  triggers and leaves no trace in the catalog. Every trigger on a governed table is set
  ``ENABLE ALWAYS`` so it fires in every session mode; turning it off now takes DDL, which
  ``db check`` / ``audit verify`` see (they compare each trigger with ``db/trigger_manifest.py``).
* **signing_keys** are governed but not append-only (revocation is an UPDATE by design): key
  identity and material are immutable, validity can only be shortened, a revocation needs a
  reason and is final, rows are never deleted (nor truncated) and never replaced.

Table-list driven: to cover a table created by a later revision, add its name to
``APPEND_ONLY_TABLES`` (rows never change) or ``STATEFUL_TABLES`` (rows change only through a guard
of their own) — this revision must then run after the one creating it — and regenerate
``db/trigger_manifest.py`` with ``scripts/trigger_manifest.py``.

Self-contained and idempotent like the earlier revisions (triggers of this revision are dropped and
recreated, functions replaced, ENABLE ALWAYS is idempotent). The downgrade restores 0002's exact
behaviour: 0001/0002 function texts, triggers enabled in the default (origin) mode, and the
triggers this revision added removed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_TABLES = (
    "governance_events",
    "eligibility_reports",
    "artifact_lineage",
    "artifact_edges",
    "trial_ledger",
    "market_revisions",
    "bars_history",
    "instruments_history",
)
"""Rows are only ever inserted: no UPDATE, DELETE, TRUNCATE or replacing INSERT."""

STATEFUL_TABLES = ("promotion_candidates", "signing_keys", "tenants")
"""Rows change only through their own UPDATE guard; never deleted, truncated or replaced."""

GOVERNED_TABLES = APPEND_ONLY_TABLES + STATEFUL_TABLES

ALWAYS_ON_TABLES = ("bars", "instruments")
"""Market tables whose point-in-time triggers (revision 0004: restate under a new revision, keep
history, never delete) must fire in every PostgreSQL session mode too. They are upserted by the
ingest path, so they get no conflict guard."""

# Frozen at the time of 0002; the service module carries the same prefix.
CHAIN_LOCK_PREFIX = "crypto_analyzer.governance_events:"
_SEARCH_PATH = "SET search_path = pg_catalog, pg_temp"
_S = "@S@"  # where a function body names a table: the schema prefix goes here
_MARK = "created by revision 0009"  # on append-only triggers 0009 adds, so its downgrade finds them

# -- shared -------------------------------------------------------------------------------------


def _dialect() -> str:
    return op.get_bind().dialect.name


def _require_tables() -> None:
    """Every listed table must exist: this revision has to run after the ones creating them."""
    inspector = sa.inspect(op.get_bind())
    missing = [table for table in GOVERNED_TABLES if not inspector.has_table(table)]
    if missing:
        raise RuntimeError(
            f"revision 0009 guards {', '.join(missing)}, which do not exist yet; "
            "0009 must come after the revisions that create every listed table"
        )


# -- SQLite -------------------------------------------------------------------------------------

_SIGNING_KEY_IDENTITY = (
    "tenant_id",
    "key_id",
    "algorithm",
    "public_key",
    "owner",
    "valid_from",
    "created_at",
)

_SQLITE_SIGNING_KEY_UPDATE = f"""
CREATE TRIGGER trg_signing_keys_guard_update
BEFORE UPDATE ON signing_keys
BEGIN
    SELECT RAISE(ABORT, 'signing_keys: key identity and material are immutable')
    WHERE {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _SIGNING_KEY_IDENTITY)};
    SELECT RAISE(ABORT, 'signing_keys: a revoked key is terminal')
    WHERE OLD.revoked_at IS NOT NULL;
    SELECT RAISE(ABORT, 'signing_keys: validity can only be shortened')
    WHERE NEW.valid_until IS NOT OLD.valid_until AND (NEW.valid_until IS NULL
        OR (OLD.valid_until IS NOT NULL AND NEW.valid_until > OLD.valid_until));
    SELECT RAISE(ABORT, 'signing_keys: a revocation needs a reason')
    WHERE NEW.revoked_at IS NOT NULL
        AND (NEW.revocation_reason IS NULL OR trim(NEW.revocation_reason) = '');
END
"""

_SQLITE_SIGNING_KEY_DELETE = """
CREATE TRIGGER trg_signing_keys_no_delete
BEFORE DELETE ON signing_keys
BEGIN
    SELECT RAISE(ABORT, 'signing_keys rows cannot be deleted: DELETE is not allowed');
END
"""


def _sqlite_unique_keys(table: str) -> list[tuple[str, ...]]:
    """Column lists of the primary key and every UNIQUE constraint or index of ``table``."""
    bind = op.get_bind()
    keys = set()
    for row in bind.exec_driver_sql(f"PRAGMA index_list({table})").mappings():
        if not row["unique"]:
            continue
        columns = [info["name"] for info in bind.exec_driver_sql(
            f"PRAGMA index_info({row['name']})").mappings()]  # fmt: skip
        if row["partial"] or None in columns:
            raise RuntimeError(
                f"{table}: unique index {row['name']} is partial or on an expression; "
                "the conflict guard of revision 0009 cannot express it"
            )
        keys.add(tuple(columns))
    return sorted(keys)


def _sqlite_has_rowid(table: str) -> bool:
    rows = op.get_bind().exec_driver_sql(f"PRAGMA table_list({table})").mappings()
    return not any(row["wr"] for row in rows if row["schema"] == "main")


def _sqlite_conflict_guards(table: str) -> list[str]:
    """``no_replace`` (+ ``rowid_positive`` on rowid tables) for one table."""
    probes = [
        "EXISTS (SELECT 1 FROM {t} WHERE {match})".format(
            t=table, match=" AND ".join(f"{c} = NEW.{c}" for c in key)
        )
        for key in _sqlite_unique_keys(table)
    ]
    rowid = _sqlite_has_rowid(table)
    if rowid:
        probes.append(f"(NEW.rowid > 0 AND EXISTS (SELECT 1 FROM {table} WHERE rowid = NEW.rowid))")
    if not probes:
        raise RuntimeError(f"{table} has no key for the conflict guard of revision 0009")
    where = "\n        OR ".join(probes)
    statements = [
        f"CREATE TRIGGER trg_{table}_no_replace BEFORE INSERT ON {table}\nBEGIN\n"
        f"    SELECT RAISE(ABORT, '{table}: a row with this key already exists; "
        f"rows are never replaced')\n    WHERE {where};\nEND"
    ]
    if rowid:
        statements.append(
            f"CREATE TRIGGER trg_{table}_rowid_positive AFTER INSERT ON {table}\nBEGIN\n"
            f"    SELECT RAISE(ABORT, '{table}: rowid must be positive') WHERE NEW.rowid < 1;\nEND"
        )
    return statements


def _sqlite_rowid_guard(table: str) -> str:
    return (
        f"CREATE TRIGGER trg_{table}_rowid_immutable BEFORE UPDATE ON {table}\nBEGIN\n"
        f"    SELECT RAISE(ABORT, '{table}: rowid is immutable') WHERE NEW.rowid IS NOT OLD.rowid;"
        "\nEND"
    )


def _sqlite_triggers() -> dict[str, str]:
    """Name → CREATE statement of every trigger this revision owns on SQLite."""
    statements: dict[str, str] = {}
    for table in GOVERNED_TABLES:
        for statement in _sqlite_conflict_guards(table):
            statements[statement.split()[2]] = statement
        if table in STATEFUL_TABLES and _sqlite_has_rowid(table):
            statements[f"trg_{table}_rowid_immutable"] = _sqlite_rowid_guard(table)
    statements["trg_signing_keys_guard_update"] = _SQLITE_SIGNING_KEY_UPDATE
    statements["trg_signing_keys_no_delete"] = _SQLITE_SIGNING_KEY_DELETE
    return statements


def _sqlite_upgrade() -> None:
    for table in APPEND_ONLY_TABLES:  # 0001's triggers, for tables added to the list later
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS trg_{table}_no_{action.lower()} BEFORE {action} "
                f"ON {table} BEGIN /* {_MARK} */ SELECT RAISE(ABORT, "
                f"'{table} is append-only: {action} is not allowed'); END"
            )
    for name, statement in _sqlite_triggers().items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(statement)


def _sqlite_downgrade() -> None:
    for name in _sqlite_triggers():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for (name,) in (
        op.get_bind()
        .exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND instr(sql, ?) > 0",
            (f"/* {_MARK} */",),
        )
        .all()
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


# -- PostgreSQL ---------------------------------------------------------------------------------
# Bodies are 0001/0002's, with @S@ before every table name; with @S@ = "" they are byte-identical
# to the originals, which is what the downgrade writes back.

_IMMUTABLE = (
    "tenant_id",
    "candidate_id",
    "run_instance_id",
    "run_key",
    "dataset_id",
    "signal",
    "horizon",
    "evidence_digest",
    "created_by",
    "created_at",
)
_EDGES_SQL = (
    "(OLD.status = 'exploratory' AND NEW.status IN ('candidate', 'rejected')) "
    "OR (OLD.status = 'candidate' AND NEW.status IN ('accepted', 'rejected')) "
    "OR (OLD.status = 'accepted' AND NEW.status = 'revoked')"
)

_PG_REJECT_APPEND_ONLY = """
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
"""

_PG_CANDIDATE_INSERT = """
BEGIN
    IF NEW.status IS DISTINCT FROM 'exploratory' THEN
        RAISE EXCEPTION
            'promotion_candidates: a new candidate must be inserted as exploratory (got %)',
            quote_nullable(NEW.status) USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.eligibility_report_id IS NOT NULL THEN
        RAISE EXCEPTION 'promotion_candidates: a new candidate links no eligibility report, got %',
            quote_literal(NEW.eligibility_report_id) USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
"""

_PG_CANDIDATE_UPDATE = f"""
DECLARE
    report RECORD;
BEGIN
    IF {" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _IMMUTABLE)} THEN
        RAISE EXCEPTION 'promotion_candidates: identity columns are immutable (candidate %)',
            OLD.candidate_id USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.status IN ('rejected', 'revoked') THEN
        RAISE EXCEPTION 'promotion_candidates: rejected and revoked are terminal (%, %)',
            OLD.candidate_id, OLD.status USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.status = 'accepted' AND (NEW.status IS DISTINCT FROM 'revoked'
            OR NEW.eligibility_report_id IS DISTINCT FROM OLD.eligibility_report_id) THEN
        RAISE EXCEPTION 'promotion_candidates: an accepted row changes only to revoked, got %',
            quote_nullable(NEW.status) USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT ({_EDGES_SQL}) THEN
        RAISE EXCEPTION 'promotion_candidates: status transition is not allowed: % -> %',
            quote_nullable(OLD.status), quote_nullable(NEW.status)
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status IN ('rejected', 'revoked')
            AND (NEW.status_reason IS NULL OR btrim(NEW.status_reason) = '') THEN
        RAISE EXCEPTION 'promotion_candidates: rejected and revoked need a reason'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status = 'exploratory' AND NEW.eligibility_report_id IS NOT NULL THEN
        RAISE EXCEPTION 'promotion_candidates: an exploratory row links no eligibility report'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status IN ('candidate', 'accepted') THEN
        SELECT r.candidate_id, r.level, r.passed, r.evidence_digest INTO report
        FROM {_S}eligibility_reports AS r
        WHERE r.tenant_id = NEW.tenant_id AND r.report_id = NEW.eligibility_report_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'promotion_candidates: candidate/accepted need a linked report, got %',
                quote_nullable(NEW.eligibility_report_id) USING ERRCODE = 'check_violation';
        END IF;
        IF report.candidate_id IS DISTINCT FROM NEW.candidate_id THEN
            RAISE EXCEPTION
                'promotion_candidates: the linked report belongs to another candidate %',
                report.candidate_id USING ERRCODE = 'check_violation';
        END IF;
        IF report.level IS DISTINCT FROM NEW.status THEN
            RAISE EXCEPTION 'promotion_candidates: the linked report is of another level (% vs %)',
                report.level, quote_nullable(NEW.status) USING ERRCODE = 'check_violation';
        END IF;
        IF report.passed IS DISTINCT FROM 1 THEN
            RAISE EXCEPTION 'promotion_candidates: the linked report did not pass'
                USING ERRCODE = 'check_violation';
        END IF;
        IF report.evidence_digest IS DISTINCT FROM NEW.evidence_digest THEN
            RAISE EXCEPTION 'promotion_candidates: the linked report has another evidence digest %',
                report.evidence_digest USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT EXISTS (
            SELECT 1 FROM {_S}governance_events AS e
            WHERE e.tenant_id = NEW.tenant_id AND e.candidate_id = NEW.candidate_id
                AND e.from_status = OLD.status AND e.to_status = NEW.status) THEN
        RAISE EXCEPTION 'promotion_candidates: a status change needs its governance event first %',
            OLD.status || ' -> ' || NEW.status USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
"""

_PG_CANDIDATE_DELETE = """
BEGIN
    RAISE EXCEPTION 'promotion_candidates rows cannot be deleted: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END
"""

_PG_EVENT_INSERT = f"""
DECLARE
    head RECORD;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('{CHAIN_LOCK_PREFIX}' || NEW.tenant_id, 0));
    SELECT seq, hash INTO head FROM {_S}governance_events
    WHERE tenant_id = NEW.tenant_id ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        IF NEW.seq IS DISTINCT FROM 0 THEN
            RAISE EXCEPTION 'governance_events: seq must extend the tenant chain by one (0, got %)',
                NEW.seq USING ERRCODE = 'check_violation';
        END IF;
    ELSE
        IF NEW.seq IS DISTINCT FROM head.seq + 1 THEN
            RAISE EXCEPTION 'governance_events: seq must extend the tenant chain by one (%, got %)',
                head.seq + 1, NEW.seq USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.prev_hash IS DISTINCT FROM head.hash THEN
            RAISE EXCEPTION 'governance_events: prev_hash must equal the hash of the chain head %',
                head.hash USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF NEW.to_status IS NOT NULL AND EXISTS (
            SELECT 1 FROM {_S}governance_events
            WHERE tenant_id = NEW.tenant_id AND candidate_id IS NOT DISTINCT FROM NEW.candidate_id
                AND to_status = NEW.to_status) THEN
        RAISE EXCEPTION 'governance_events: the candidate already reached this status (%)',
            NEW.to_status USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
"""

_PG_SIGNING_KEY_UPDATE = f"""
BEGIN
    IF {" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _SIGNING_KEY_IDENTITY)} THEN
        RAISE EXCEPTION 'signing_keys: key identity and material are immutable (key %)',
            OLD.key_id USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'signing_keys: a revoked key is terminal (key %)', OLD.key_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.valid_until IS DISTINCT FROM OLD.valid_until AND (NEW.valid_until IS NULL
            OR (OLD.valid_until IS NOT NULL
                AND NEW.valid_until COLLATE "C" > OLD.valid_until COLLATE "C")) THEN
        RAISE EXCEPTION 'signing_keys: validity can only be shortened (key %)', OLD.key_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.revoked_at IS NOT NULL
            AND (NEW.revocation_reason IS NULL OR btrim(NEW.revocation_reason) = '') THEN
        RAISE EXCEPTION 'signing_keys: a revocation needs a reason (key %)', OLD.key_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
"""

_PG_SIGNING_KEY_DELETE = """
BEGIN
    RAISE EXCEPTION 'signing_keys rows cannot be deleted: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END
"""

# name → (body, revision that created it); functions of 0001/0002 are restored on downgrade.
_PG_FUNCTIONS = {
    "ca_reject_append_only_change": (_PG_REJECT_APPEND_ONLY, "0001"),
    "ca_guard_candidate_insert": (_PG_CANDIDATE_INSERT, "0002"),
    "ca_guard_candidate_update": (_PG_CANDIDATE_UPDATE, "0002"),
    "ca_reject_candidate_delete": (_PG_CANDIDATE_DELETE, "0002"),
    "ca_guard_event_insert": (_PG_EVENT_INSERT, "0002"),
    "ca_guard_signing_key_update": (_PG_SIGNING_KEY_UPDATE, "0009"),
    "ca_reject_signing_key_delete": (_PG_SIGNING_KEY_DELETE, "0009"),
}

_PG_SIGNING_KEY_TRIGGERS = (
    ("trg_signing_keys_guard_update", "BEFORE UPDATE", "FOR EACH ROW",
     "ca_guard_signing_key_update"),
    ("trg_signing_keys_no_delete", "BEFORE DELETE", "FOR EACH ROW",
     "ca_reject_signing_key_delete"),
    ("trg_signing_keys_no_truncate", "BEFORE TRUNCATE", "FOR EACH STATEMENT",
     "ca_reject_signing_key_delete"),
)  # fmt: skip


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _pg_schema() -> str:
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    if schema is None:
        raise RuntimeError("no current schema: set search_path before migrating")
    return str(schema)


def _pg_path(schema: str) -> str:
    """``<schema>, pg_temp`` spelled as PostgreSQL stores it in ``proconfig``."""
    quoted = op.get_bind().exec_driver_sql("SELECT quote_ident(%(s)s)", {"s": schema}).scalar_one()
    return f"{quoted}, pg_temp"


def _pg_function(name: str, body: str, prefix: str, *, hardened: bool) -> str:
    config = f"\n{_SEARCH_PATH}" if hardened else ""
    return (
        f"CREATE OR REPLACE FUNCTION {prefix}{name}() RETURNS trigger\n"
        f"LANGUAGE plpgsql{config} AS $${body.replace(_S, prefix)}$$"
    )


def _pg_triggers_on(table: str, schema: str) -> list[str]:
    rows = op.get_bind().exec_driver_sql(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE NOT t.tgisinternal AND c.relname = %(t)s AND n.nspname = %(s)s ORDER BY 1",
        {"t": table, "s": schema},
    )
    return [row[0] for row in rows]


def _pg_unpinned_functions(schema: str, config: str | None) -> list[str]:
    """``name(args)`` of the other ``ca_*`` functions whose settings are exactly ``config``."""
    rows = op.get_bind().exec_driver_sql(
        "SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = %(s)s AND p.proname LIKE 'ca\\_%%' "
        "AND p.proname <> ALL(%(ours)s) AND p.proconfig IS NOT DISTINCT FROM %(config)s "
        "ORDER BY 1",
        {"s": schema, "ours": list(_PG_FUNCTIONS), "config": None if config is None else [config]},
    )
    return [row[0] for row in rows]


def _pg_upgrade() -> None:
    schema = _pg_schema()
    prefix = f"{_quote(schema)}."
    for name, (body, _) in _PG_FUNCTIONS.items():
        op.execute(_pg_function(name, body, prefix, hardened=True))
    # Trigger functions of other revisions that do not pin search_path: put pg_temp last, after
    # the migration's schema, so a TEMP table can no longer stand in for one of ours.
    for function in _pg_unpinned_functions(schema, None):
        op.execute(f"ALTER FUNCTION {prefix}{function} SET search_path = {_pg_path(schema)}")
    for table in APPEND_ONLY_TABLES:  # 0001's triggers, for tables added to the list later
        present = set(_pg_triggers_on(table, schema))
        for action, level in (("UPDATE", "ROW"), ("DELETE", "ROW"), ("TRUNCATE", "STATEMENT")):
            name = f"trg_{table}_no_{action.lower()}"
            if name not in present:
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {action} ON {prefix}{table} FOR EACH {level} "
                    f"EXECUTE FUNCTION {prefix}ca_reject_append_only_change()"
                )
                op.execute(f"COMMENT ON TRIGGER {name} ON {prefix}{table} IS '{_MARK}'")
    for name, timing, level, function in _PG_SIGNING_KEY_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {prefix}signing_keys")
        op.execute(
            f"CREATE TRIGGER {name} {timing} ON {prefix}signing_keys {level} "
            f"EXECUTE FUNCTION {prefix}{function}()"
        )
    for table in (*GOVERNED_TABLES, *ALWAYS_ON_TABLES):
        for name in _pg_triggers_on(table, schema):
            op.execute(f"ALTER TABLE {prefix}{table} ENABLE ALWAYS TRIGGER {_quote(name)}")


def _pg_downgrade() -> None:
    schema = _pg_schema()
    prefix = f"{_quote(schema)}."
    for table in (*GOVERNED_TABLES, *ALWAYS_ON_TABLES):
        for name in _pg_triggers_on(table, schema):
            op.execute(f"ALTER TABLE {prefix}{table} ENABLE TRIGGER {_quote(name)}")
    for name, _, _, _ in _PG_SIGNING_KEY_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {prefix}signing_keys")
    for name, table in (
        op.get_bind()
        .exec_driver_sql(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %(s)s AND obj_description(t.oid, 'pg_trigger') = %(m)s",
            {"s": schema, "m": _MARK},
        )
        .all()
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {_quote(name)} ON {prefix}{_quote(table)}")
    for function in _pg_unpinned_functions(schema, f"search_path={_pg_path(schema)}"):
        op.execute(f"ALTER FUNCTION {prefix}{function} RESET search_path")
    for name, (body, created_in) in _PG_FUNCTIONS.items():
        if created_in == "0009":
            op.execute(f"DROP FUNCTION IF EXISTS {prefix}{name}()")
        else:
            op.execute(_pg_function(name, body, "", hardened=False))


def upgrade() -> None:
    _require_tables()
    dialect = _dialect()
    if dialect == "sqlite":
        _sqlite_upgrade()
    elif dialect == "postgresql":
        _pg_upgrade()
    else:  # pragma: no cover - settings accept only these two backends
        raise NotImplementedError(f"governance hardening is not written for {dialect!r}")


def downgrade() -> None:
    dialect = _dialect()
    if dialect == "sqlite":
        _sqlite_downgrade()
    elif dialect == "postgresql":
        _pg_downgrade()
