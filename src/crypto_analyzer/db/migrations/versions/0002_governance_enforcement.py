"""Governance enforcement: the promotion state machine and the event chain, inside the database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

DESIGN §3 invariants 4 and 5 say the database itself refuses a promotion that the service would
refuse, so that a client with plain SQL rights (a notebook, a psql session, a buggy worker) cannot
skip the policy engine. This revision adds, per dialect:

* ``promotion_candidates``: INSERT only as ``exploratory`` without a linked report; UPDATE only
  along the allowed edges (exploratory → candidate/rejected, candidate → accepted/rejected,
  accepted → revoked), identity columns immutable, terminal rows frozen, ``candidate``/``accepted``
  only with a linked eligibility report that passed, is of the same level, belongs to this
  candidate and carries this candidate's evidence digest, a reason for ``rejected``/``revoked``, and
  every status change preceded by its governance event; no DELETE (nor TRUNCATE on PostgreSQL).
* ``governance_events``: an INSERT must extend its tenant's chain (next ``seq``, ``prev_hash``
  equal to the head's ``hash``) and a candidate reaches each status at most once. On PostgreSQL
  the check runs under a per-tenant advisory transaction lock, the same lock the governance
  service takes before it reads the chain head, so concurrent appends serialise.
* Two lookup indexes used by those triggers and by ``audit trace``.

Self-contained like 0001: nothing is imported from ``crypto_analyzer``; every operation is guarded
(``IF NOT EXISTS`` / ``CREATE OR REPLACE`` / ``DROP … IF EXISTS``) so running it twice converges.
SQLite's ``RAISE`` takes only a literal message, so SQLite messages name the rule while
PostgreSQL's also quote the offending values; both start with the same text.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen at the time of this revision; the service module carries the same prefix.
CHAIN_LOCK_PREFIX = "crypto_analyzer.governance_events:"

INDEXES = (
    (
        "ix_governance_events_tenant_id_candidate_id",
        "governance_events",
        ["tenant_id", "candidate_id"],
    ),
    (
        "ix_eligibility_reports_tenant_id_candidate_id",
        "eligibility_reports",
        ["tenant_id", "candidate_id"],
    ),
)

# (trigger name, table) pairs created on both dialects.
TRIGGERS = (
    ("trg_promotion_candidates_guard_insert", "promotion_candidates"),
    ("trg_promotion_candidates_guard_update", "promotion_candidates"),
    ("trg_promotion_candidates_no_delete", "promotion_candidates"),
    ("trg_governance_events_guard_insert", "governance_events"),
)
PG_ONLY_TRIGGERS = (("trg_promotion_candidates_no_truncate", "promotion_candidates"),)
PG_FUNCTIONS = (
    "ca_guard_candidate_insert()",
    "ca_guard_candidate_update()",
    "ca_reject_candidate_delete()",
    "ca_guard_event_insert()",
)

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

# -- SQLite -------------------------------------------------------------------------------------

_SQLITE_CANDIDATE_INSERT = """
CREATE TRIGGER IF NOT EXISTS trg_promotion_candidates_guard_insert
BEFORE INSERT ON promotion_candidates
BEGIN
    SELECT RAISE(ABORT, 'promotion_candidates: a new candidate must be inserted as exploratory')
    WHERE NEW.status IS NOT 'exploratory';
    SELECT RAISE(ABORT, 'promotion_candidates: a new candidate links no eligibility report')
    WHERE NEW.eligibility_report_id IS NOT NULL;
END
"""

_SQLITE_REPORT = (
    "(SELECT {column} FROM eligibility_reports AS r "
    "WHERE r.tenant_id = NEW.tenant_id AND r.report_id = NEW.eligibility_report_id)"
)

_SQLITE_CANDIDATE_UPDATE = f"""
CREATE TRIGGER IF NOT EXISTS trg_promotion_candidates_guard_update
BEFORE UPDATE ON promotion_candidates
BEGIN
    SELECT RAISE(ABORT, 'promotion_candidates: identity columns are immutable')
    WHERE {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _IMMUTABLE)};
    SELECT RAISE(ABORT, 'promotion_candidates: rejected and revoked are terminal')
    WHERE OLD.status IN ('rejected', 'revoked');
    SELECT RAISE(ABORT, 'promotion_candidates: an accepted row changes only to revoked')
    WHERE OLD.status = 'accepted' AND (NEW.status IS NOT 'revoked'
        OR NEW.eligibility_report_id IS NOT OLD.eligibility_report_id);
    SELECT RAISE(ABORT, 'promotion_candidates: status transition is not allowed')
    WHERE NEW.status IS NOT OLD.status AND NOT ({_EDGES_SQL});
    SELECT RAISE(ABORT, 'promotion_candidates: rejected and revoked need a reason')
    WHERE NEW.status IN ('rejected', 'revoked')
        AND (NEW.status_reason IS NULL OR trim(NEW.status_reason) = '');
    SELECT RAISE(ABORT, 'promotion_candidates: an exploratory row links no eligibility report')
    WHERE NEW.status = 'exploratory' AND NEW.eligibility_report_id IS NOT NULL;
    SELECT RAISE(ABORT, 'promotion_candidates: candidate/accepted need a linked report')
    WHERE NEW.status IN ('candidate', 'accepted')
        AND {_SQLITE_REPORT.format(column="COUNT(*)")} = 0;
    SELECT RAISE(ABORT, 'promotion_candidates: the linked report belongs to another candidate')
    WHERE NEW.status IN ('candidate', 'accepted')
        AND {_SQLITE_REPORT.format(column="candidate_id")} IS NOT NEW.candidate_id;
    SELECT RAISE(ABORT, 'promotion_candidates: the linked report is of another level')
    WHERE NEW.status IN ('candidate', 'accepted')
        AND {_SQLITE_REPORT.format(column="level")} IS NOT NEW.status;
    SELECT RAISE(ABORT, 'promotion_candidates: the linked report did not pass')
    WHERE NEW.status IN ('candidate', 'accepted')
        AND {_SQLITE_REPORT.format(column="passed")} IS NOT 1;
    SELECT RAISE(ABORT, 'promotion_candidates: the linked report has another evidence digest')
    WHERE NEW.status IN ('candidate', 'accepted')
        AND {_SQLITE_REPORT.format(column="evidence_digest")} IS NOT NEW.evidence_digest;
    SELECT RAISE(ABORT, 'promotion_candidates: a status change needs its governance event first')
    WHERE NEW.status IS NOT OLD.status AND NOT EXISTS (
        SELECT 1 FROM governance_events AS e
        WHERE e.tenant_id = NEW.tenant_id AND e.candidate_id = NEW.candidate_id
            AND e.from_status = OLD.status AND e.to_status = NEW.status);
END
"""

_SQLITE_CANDIDATE_DELETE = """
CREATE TRIGGER IF NOT EXISTS trg_promotion_candidates_no_delete
BEFORE DELETE ON promotion_candidates
BEGIN
    SELECT RAISE(ABORT, 'promotion_candidates rows cannot be deleted: DELETE is not allowed');
END
"""

_SQLITE_EVENT_INSERT = """
CREATE TRIGGER IF NOT EXISTS trg_governance_events_guard_insert
BEFORE INSERT ON governance_events
BEGIN
    SELECT RAISE(ABORT, 'governance_events: seq must extend the tenant chain by one')
    WHERE NEW.seq IS NOT COALESCE(
        (SELECT MAX(seq) FROM governance_events WHERE tenant_id = NEW.tenant_id), -1) + 1;
    SELECT RAISE(ABORT, 'governance_events: prev_hash must equal the hash of the chain head')
    WHERE NEW.seq > 0 AND NEW.prev_hash IS NOT (
        SELECT hash FROM governance_events
        WHERE tenant_id = NEW.tenant_id AND seq = NEW.seq - 1);
    SELECT RAISE(ABORT, 'governance_events: the candidate already reached this status')
    WHERE NEW.to_status IS NOT NULL AND EXISTS (
        SELECT 1 FROM governance_events
        WHERE tenant_id = NEW.tenant_id AND candidate_id IS NEW.candidate_id
            AND to_status = NEW.to_status);
END
"""

# -- PostgreSQL ---------------------------------------------------------------------------------

_PG_CANDIDATE_INSERT = """
CREATE OR REPLACE FUNCTION ca_guard_candidate_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
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
$$
"""

_PG_CANDIDATE_UPDATE = f"""
CREATE OR REPLACE FUNCTION ca_guard_candidate_update() RETURNS trigger
LANGUAGE plpgsql AS $$
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
        FROM eligibility_reports AS r
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
            SELECT 1 FROM governance_events AS e
            WHERE e.tenant_id = NEW.tenant_id AND e.candidate_id = NEW.candidate_id
                AND e.from_status = OLD.status AND e.to_status = NEW.status) THEN
        RAISE EXCEPTION 'promotion_candidates: a status change needs its governance event first %',
            OLD.status || ' -> ' || NEW.status USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$
"""

_PG_CANDIDATE_DELETE = """
CREATE OR REPLACE FUNCTION ca_reject_candidate_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'promotion_candidates rows cannot be deleted: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$
"""

_PG_EVENT_INSERT = f"""
CREATE OR REPLACE FUNCTION ca_guard_event_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head RECORD;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('{CHAIN_LOCK_PREFIX}' || NEW.tenant_id, 0));
    SELECT seq, hash INTO head FROM governance_events
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
            SELECT 1 FROM governance_events
            WHERE tenant_id = NEW.tenant_id AND candidate_id IS NOT DISTINCT FROM NEW.candidate_id
                AND to_status = NEW.to_status) THEN
        RAISE EXCEPTION 'governance_events: the candidate already reached this status (%)',
            NEW.to_status USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$
"""

_PG_TRIGGERS = (
    ("trg_promotion_candidates_guard_insert", "promotion_candidates", "BEFORE INSERT",
     "FOR EACH ROW", "ca_guard_candidate_insert()"),
    ("trg_promotion_candidates_guard_update", "promotion_candidates", "BEFORE UPDATE",
     "FOR EACH ROW", "ca_guard_candidate_update()"),
    ("trg_promotion_candidates_no_delete", "promotion_candidates", "BEFORE DELETE",
     "FOR EACH ROW", "ca_reject_candidate_delete()"),
    ("trg_promotion_candidates_no_truncate", "promotion_candidates", "BEFORE TRUNCATE",
     "FOR EACH STATEMENT", "ca_reject_candidate_delete()"),
    ("trg_governance_events_guard_insert", "governance_events", "BEFORE INSERT",
     "FOR EACH ROW", "ca_guard_event_insert()"),
)  # fmt: skip


def _existing_indexes(table: str) -> set[str]:
    return {str(index["name"]) for index in sa.inspect(op.get_bind()).get_indexes(table)}


def _create_indexes() -> None:
    for name, table, columns in INDEXES:
        if name not in _existing_indexes(table):
            op.create_index(name, table, columns, unique=False)


def _drop_indexes() -> None:
    inspector = sa.inspect(op.get_bind())
    for name, table, _ in INDEXES:
        if inspector.has_table(table) and name in _existing_indexes(table):
            op.drop_index(name, table_name=table)


def _create_sqlite_triggers() -> None:
    for statement in (
        _SQLITE_CANDIDATE_INSERT,
        _SQLITE_CANDIDATE_UPDATE,
        _SQLITE_CANDIDATE_DELETE,
        _SQLITE_EVENT_INSERT,
    ):
        op.execute(statement)


def _create_postgresql_triggers() -> None:
    for function in (_PG_CANDIDATE_INSERT, _PG_CANDIDATE_UPDATE, _PG_CANDIDATE_DELETE):
        op.execute(function)
    op.execute(_PG_EVENT_INSERT)
    for name, table, timing, level, function in _PG_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute(f"CREATE TRIGGER {name} {timing} ON {table} {level} EXECUTE FUNCTION {function}")


def upgrade() -> None:
    _create_indexes()
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _create_sqlite_triggers()
    elif dialect == "postgresql":
        _create_postgresql_triggers()
    else:  # pragma: no cover - settings accept only these two backends
        raise NotImplementedError(f"governance triggers are not written for {dialect!r}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    inspector = sa.inspect(op.get_bind())
    if dialect == "sqlite":
        for name, _ in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        for name, table in (*TRIGGERS, *PG_ONLY_TRIGGERS):
            if inspector.has_table(table):
                op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    _drop_indexes()
