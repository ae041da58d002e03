"""The trial ledger: every hypothesis any report run of a tenant tested, in the order it was tested.

Promotion judges a candidate against the research history, not against the one run that produced
it (DESIGN §3 invariant 10): the deflated Sharpe ratio and the multiple-testing correction count
every trial in the candidate's research scope. So a trial is recorded as soon as its statistics
exist — failed and abandoned runs included — and can never be removed: the table is append-only in
the database and hash-chained per tenant like ``governance_events`` (``seq`` 0, 1, 2…, each row
storing the previous row's ``hash``), so a deleted or edited trial is detected by ``audit verify``.

``trial_key`` is the trial's identity for counting: the same hypothesis on the same data with the
same results is one trial however often it is re-run (a rerun teaches nothing new), while any
change that alters a result is another trial.
"""

from __future__ import annotations

import sqlalchemy as sa

from crypto_analyzer.db.schema._base import FLOAT64, INT64, TABLE_OPTIONS, metadata, tenant_column

__all__ = ["trial_ledger"]

trial_ledger = sa.Table(
    "trial_ledger",
    metadata,
    tenant_column(),
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
    sa.Column("mac", sa.Text(), nullable=True),
    sa.Column("mac_key_id", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "seq"),
    sa.UniqueConstraint("tenant_id", "trial_id"),
    sa.UniqueConstraint("tenant_id", "run_instance_id", "hypothesis_id"),
    sa.Index(None, "tenant_id", "freq", "start_ms"),
    sa.CheckConstraint("seq >= 0", name="seq_non_negative"),
    sa.CheckConstraint("horizon >= 1", name="horizon_positive"),
    sa.CheckConstraint("end_ms >= start_ms", name="range_ordered"),
    sa.CheckConstraint("p_value IS NULL OR (p_value >= 0 AND p_value <= 1)", name="p_in_unit"),
    sa.CheckConstraint("family_size >= 1", name="family_size_positive"),
    sa.CheckConstraint("family_n_eff >= 1", name="family_n_eff_at_least_one"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "run_instance_id"], ["runs.tenant_id", "runs.run_instance_id"]
    ),
    **TABLE_OPTIONS,
)
