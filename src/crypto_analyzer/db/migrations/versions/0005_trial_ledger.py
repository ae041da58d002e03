"""The trial ledger, the research history an eligibility report judged, and restatement events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

DESIGN §3 invariant 10: promotion judges a candidate against every trial in its research scope, so
every hypothesis a report run tests is appended to a per-tenant ledger that nobody can thin out.
This revision adds, per dialect:

* ``trial_ledger``: append-only (UPDATE, DELETE and on PostgreSQL TRUNCATE refused, like the
  tables of revision 0001) and hash-chained per tenant. Its INSERT guard makes a new row extend the
  tenant's chain (next ``seq``, ``prev_hash`` equal to the head's ``hash`` or the genesis hash) and
  refuses a row whose ``trial_id`` or (run, hypothesis) already exists — the guard SQLite needs
  because ``INSERT OR REPLACE`` deletes a conflicting row without firing DELETE triggers. On
  PostgreSQL the check runs under a per-tenant advisory transaction lock, the same lock the ledger
  writer takes, so concurrent appends serialise.
* ``eligibility_reports.history_json``: the research history an evaluation judged (ledger size and
  head, scope, trial counts, the recomputed statistics), so a decision can be re-derived later.
* ``governance_events.event_type`` also allows ``restated``: a restatement of market data a
  candidate's run used is recorded on that candidate. SQLite cannot alter a CHECK constraint, so
  the table is rebuilt from its own stored definition (keeping STRICT, its indexes and triggers).

Self-contained like the earlier revisions; every step is guarded so running it twice converges.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INT64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FLOAT64: sa.Double[float] = sa.Double().with_variant(sa.REAL(), "sqlite")
STRICT = {"sqlite_strict": True}

GENESIS_HASH = "0" * 64
LEDGER_LOCK_PREFIX = "crypto_analyzer.trial_ledger:"
OLD_EVENT_TYPES = ("created", "evaluated", "promoted", "rejected", "revoked")
NEW_EVENT_TYPES = (*OLD_EVENT_TYPES, "restated")
LEDGER_INDEX = "ix_trial_ledger_tenant_id_freq_start_ms"
LEDGER_TRIGGERS = (
    "trg_trial_ledger_no_update",
    "trg_trial_ledger_no_delete",
    "trg_trial_ledger_guard_insert",
)


def _create_ledger() -> None:
    if sa.inspect(op.get_bind()).has_table("trial_ledger"):
        return
    op.create_table(
        "trial_ledger",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("seq", INT64, nullable=False),
        sa.Column("trial_id", sa.Text(), nullable=False),
        sa.Column("trial_key", sa.Text(), nullable=False),
        sa.Column("run_instance_id", sa.Text(), nullable=False),
        sa.Column("run_key", sa.Text(), nullable=False),
        sa.Column("dataset_id", sa.Text(), nullable=False),
        sa.Column("data_watermark", INT64, nullable=True),
        sa.Column("hypothesis_id", sa.Text(), nullable=False),
        sa.Column("signal", sa.Text(), nullable=False),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("freq", sa.Text(), nullable=False),
        sa.Column("instruments_json", sa.Text(), nullable=False),
        sa.Column("n_instruments", sa.Integer(), nullable=False),
        sa.Column("start_ms", INT64, nullable=False),
        sa.Column("end_ms", INT64, nullable=False),
        sa.Column("sharpe", FLOAT64, nullable=True),
        sa.Column("skewness", FLOAT64, nullable=True),
        sa.Column("kurtosis", FLOAT64, nullable=True),
        sa.Column("n_returns", sa.Integer(), nullable=False),
        sa.Column("ic_mean", FLOAT64, nullable=True),
        sa.Column("ic_t", FLOAT64, nullable=True),
        sa.Column("p_value", FLOAT64, nullable=True),
        sa.Column("n_obs", sa.Integer(), nullable=False),
        sa.Column("family_size", sa.Integer(), nullable=False),
        sa.Column("family_n_eff", FLOAT64, nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.CheckConstraint("seq >= 0", name=op.f("ck_trial_ledger_seq_non_negative")),
        sa.CheckConstraint("horizon >= 1", name=op.f("ck_trial_ledger_horizon_positive")),
        sa.CheckConstraint("end_ms >= start_ms", name=op.f("ck_trial_ledger_range_ordered")),
        sa.CheckConstraint(
            "p_value IS NULL OR (p_value >= 0 AND p_value <= 1)",
            name=op.f("ck_trial_ledger_p_in_unit"),
        ),
        sa.CheckConstraint("family_size >= 1", name=op.f("ck_trial_ledger_family_size_positive")),
        sa.CheckConstraint(
            "family_n_eff >= 1", name=op.f("ck_trial_ledger_family_n_eff_at_least_one")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_instance_id"],
            ["runs.tenant_id", "runs.run_instance_id"],
            name=op.f("fk_trial_ledger_tenant_id_run_instance_id_runs"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "seq", name=op.f("pk_trial_ledger")),
        sa.UniqueConstraint(
            "tenant_id", "trial_id", name=op.f("uq_trial_ledger_tenant_id_trial_id")
        ),
        sa.UniqueConstraint(
            "tenant_id",
            "run_instance_id",
            "hypothesis_id",
            name=op.f("uq_trial_ledger_tenant_id_run_instance_id_hypothesis_id"),
        ),
        **STRICT,
    )


def _create_ledger_index() -> None:
    existing = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("trial_ledger")}
    if LEDGER_INDEX not in existing:
        op.create_index(LEDGER_INDEX, "trial_ledger", ["tenant_id", "freq", "start_ms"])


# -- ledger triggers ---------------------------------------------------------------------------

_SQLITE_LEDGER_TRIGGERS = (
    """
CREATE TRIGGER IF NOT EXISTS trg_trial_ledger_no_update BEFORE UPDATE ON trial_ledger
BEGIN SELECT RAISE(ABORT, 'trial_ledger is append-only: UPDATE is not allowed'); END
""",
    """
CREATE TRIGGER IF NOT EXISTS trg_trial_ledger_no_delete BEFORE DELETE ON trial_ledger
BEGIN SELECT RAISE(ABORT, 'trial_ledger is append-only: DELETE is not allowed'); END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS trg_trial_ledger_guard_insert
BEFORE INSERT ON trial_ledger
BEGIN
    SELECT RAISE(ABORT, 'trial_ledger: seq must extend the tenant chain by one')
    WHERE NEW.seq IS NOT COALESCE(
        (SELECT MAX(seq) FROM trial_ledger WHERE tenant_id = NEW.tenant_id), -1) + 1;
    SELECT RAISE(ABORT, 'trial_ledger: prev_hash must equal the hash of the chain head')
    WHERE NEW.prev_hash IS NOT COALESCE(
        (SELECT hash FROM trial_ledger WHERE tenant_id = NEW.tenant_id AND seq = NEW.seq - 1),
        '{GENESIS_HASH}');
    SELECT RAISE(ABORT, 'trial_ledger: a trial with this id is already recorded')
    WHERE EXISTS (SELECT 1 FROM trial_ledger
                  WHERE tenant_id = NEW.tenant_id AND trial_id = NEW.trial_id);
    SELECT RAISE(ABORT, 'trial_ledger: this run already recorded this hypothesis')
    WHERE EXISTS (SELECT 1 FROM trial_ledger
                  WHERE tenant_id = NEW.tenant_id AND run_instance_id = NEW.run_instance_id
                      AND hypothesis_id = NEW.hypothesis_id);
END
""",
)

_PG_LEDGER_GUARD = f"""
CREATE OR REPLACE FUNCTION ca_guard_trial_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head RECORD;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('{LEDGER_LOCK_PREFIX}' || NEW.tenant_id, 0));
    SELECT seq, hash INTO head FROM trial_ledger
    WHERE tenant_id = NEW.tenant_id ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        IF NEW.seq IS DISTINCT FROM 0 OR NEW.prev_hash IS DISTINCT FROM '{GENESIS_HASH}' THEN
            RAISE EXCEPTION 'trial_ledger: seq must extend the tenant chain by one (0, got %)',
                NEW.seq USING ERRCODE = 'check_violation';
        END IF;
    ELSE
        IF NEW.seq IS DISTINCT FROM head.seq + 1 THEN
            RAISE EXCEPTION 'trial_ledger: seq must extend the tenant chain by one (%, got %)',
                head.seq + 1, NEW.seq USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.prev_hash IS DISTINCT FROM head.hash THEN
            RAISE EXCEPTION 'trial_ledger: prev_hash must equal the hash of the chain head %',
                head.hash USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM trial_ledger
               WHERE tenant_id = NEW.tenant_id AND trial_id = NEW.trial_id) THEN
        RAISE EXCEPTION 'trial_ledger: a trial with this id is already recorded (%)',
            NEW.trial_id USING ERRCODE = 'unique_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM trial_ledger
               WHERE tenant_id = NEW.tenant_id AND run_instance_id = NEW.run_instance_id
                   AND hypothesis_id = NEW.hypothesis_id) THEN
        RAISE EXCEPTION 'trial_ledger: this run already recorded this hypothesis (%)',
            NEW.hypothesis_id USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END
$$
"""

_PG_LEDGER_TRIGGERS = (
    ("trg_trial_ledger_no_update", "BEFORE UPDATE", "FOR EACH ROW",
     "ca_reject_append_only_change()"),
    ("trg_trial_ledger_no_delete", "BEFORE DELETE", "FOR EACH ROW",
     "ca_reject_append_only_change()"),
    ("trg_trial_ledger_no_truncate", "BEFORE TRUNCATE", "FOR EACH STATEMENT",
     "ca_reject_append_only_change()"),
    ("trg_trial_ledger_guard_insert", "BEFORE INSERT", "FOR EACH ROW",
     "ca_guard_trial_insert()"),
)  # fmt: skip


def _create_ledger_triggers(dialect: str) -> None:
    if dialect == "sqlite":
        for statement in _SQLITE_LEDGER_TRIGGERS:
            op.execute(statement)
        return
    op.execute(_PG_LEDGER_GUARD)
    for name, timing, level, function in _PG_LEDGER_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON trial_ledger")
        op.execute(
            f"CREATE TRIGGER {name} {timing} ON trial_ledger {level} EXECUTE FUNCTION {function}"
        )


# -- eligibility_reports.history_json -----------------------------------------------------------


def _add_history_column() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("eligibility_reports")}
    if "history_json" not in columns:
        op.add_column("eligibility_reports", sa.Column("history_json", sa.Text(), nullable=True))


def _drop_history_column() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("eligibility_reports")}
    if "history_json" in columns:
        # A plain DROP COLUMN on both dialects (SQLite >= 3.35): a batch rebuild would lose the
        # table's append-only triggers.
        op.execute("ALTER TABLE eligibility_reports DROP COLUMN history_json")


# -- governance_events.event_type ---------------------------------------------------------------


def _check_sql(types: Sequence[str]) -> str:
    return "event_type IN (" + ", ".join(f"'{name}'" for name in types) + ")"


def _set_event_types(types: Sequence[str]) -> None:
    bind = op.get_bind()
    wanted = _check_sql(types)
    if bind.dialect.name == "postgresql":
        current = bind.exec_driver_sql(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conname = 'ck_governance_events_event_type'"
        ).scalar()
        if current is not None and sorted(_quoted_names(current)) == sorted(types):
            return
        op.execute(
            "ALTER TABLE governance_events DROP CONSTRAINT IF EXISTS "
            "ck_governance_events_event_type"
        )
        op.execute(
            "ALTER TABLE governance_events ADD CONSTRAINT ck_governance_events_event_type "
            f"CHECK ({wanted})"
        )
        return
    _rebuild_sqlite_events(wanted)


def _quoted_names(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


def _rebuild_sqlite_events(wanted: str) -> None:
    """Rebuild ``governance_events`` from its stored SQL with a new event_type CHECK.

    The stored definition keeps STRICT, the key and every other constraint; the table's own
    indexes and triggers are saved first and recreated after the rename. ``legacy_alter_table``
    keeps SQLite from re-parsing other tables' triggers (which name governance_events) while the
    table is briefly absent.
    """
    bind = op.get_bind()
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'governance_events'"
    ).scalar_one()
    found = re.search(r"CHECK \((event_type IN \([^)]*\))\)", table_sql)
    if found is None:
        raise RuntimeError("governance_events has no event_type CHECK to widen; schema drifted")
    if found.group(1) == wanted:
        return
    dependents = [
        row[0]
        for row in bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'governance_events' "
            "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
        )
    ]
    # After an earlier rebuild SQLite stores the renamed header quoted: match both spellings.
    new_sql = re.sub(
        r'^CREATE TABLE\s+"?governance_events"?',
        "CREATE TABLE governance_events__rebuild",
        table_sql.replace(found.group(1), wanted, 1),
        count=1,
    )
    bind.exec_driver_sql("PRAGMA legacy_alter_table = ON")
    try:
        bind.exec_driver_sql("DROP TABLE IF EXISTS governance_events__rebuild")
        bind.exec_driver_sql(new_sql)
        bind.exec_driver_sql(
            "INSERT INTO governance_events__rebuild SELECT * FROM governance_events"
        )
        bind.exec_driver_sql("DROP TABLE governance_events")
        bind.exec_driver_sql("ALTER TABLE governance_events__rebuild RENAME TO governance_events")
        for statement in dependents:
            bind.exec_driver_sql(statement)
    finally:
        bind.exec_driver_sql("PRAGMA legacy_alter_table = OFF")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - settings allow only these
        raise NotImplementedError(f"the trial ledger is not written for {dialect!r}")
    _create_ledger()
    _create_ledger_index()
    _create_ledger_triggers(dialect)
    _add_history_column()
    _set_event_types(NEW_EVENT_TYPES)


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    restated = bind.exec_driver_sql(
        "SELECT COUNT(*) FROM governance_events WHERE event_type = 'restated'"
    ).scalar_one()
    if restated:
        raise RuntimeError(
            f"cannot downgrade below 0005: {restated} governance event(s) record restatements, "
            "and the append-only log cannot drop them"
        )
    _set_event_types(OLD_EVENT_TYPES)
    _drop_history_column()
    inspector = sa.inspect(bind)
    if inspector.has_table("trial_ledger"):
        if dialect == "postgresql":
            for name, *_ in _PG_LEDGER_TRIGGERS:
                op.execute(f"DROP TRIGGER IF EXISTS {name} ON trial_ledger")
        else:
            for name in LEDGER_TRIGGERS:
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.drop_table("trial_ledger")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ca_guard_trial_insert()")
