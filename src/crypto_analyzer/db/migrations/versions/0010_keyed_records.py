"""Keyed records: a MAC made with the service key on every governance event, report and trial.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10

DESIGN §3 invariant 12. The hash chains use a public algorithm, so a writer with INSERT rights can
append a well-chained forgery. Each governed row now also carries ``mac`` (HMAC-SHA256 with the
service key, a secret the database never holds) and ``mac_key_id`` (which key made it, so keys can
be rotated later); ``audit verify`` recomputes them. Both are nullable: rows written before this
revision, and rows a sandbox wrote without a key, have none, and the audit says so.

* ``governance_events``, ``trial_ledger``: ``mac``, ``mac_key_id`` (the MAC covers the row's chain
  hash, which covers every other column and the whole chain before it).
* ``eligibility_reports``: ``mac``, ``mac_key_id`` (the MAC covers every other column) and
  ``context_json`` — what the evaluation saw besides the bundle, the research history and the
  policy (the market watermark, the engine versions, where the policy document is stored), so
  ``audit verify`` can re-derive the decision.

These tables are append-only (triggers of 0001/0005/0009); adding a nullable column is DDL, which
those triggers neither see nor need to: no trigger names the new columns, so the trigger manifest
is unchanged. Self-contained and idempotent (each column is added only when missing). The
downgrade drops the columns — and with them every MAC: a workspace upgraded again reports its rows
as unkeyed. Plain ``ALTER TABLE … DROP COLUMN`` on both dialects (SQLite >= 3.35): a batch rebuild
would lose the tables' triggers.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS: dict[str, tuple[str, ...]] = {
    "governance_events": ("mac", "mac_key_id"),
    "eligibility_reports": ("context_json", "mac", "mac_key_id"),
    "trial_ledger": ("mac", "mac_key_id"),
}


def _present(table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - settings allow only these
        raise NotImplementedError(f"keyed records are not written for {dialect!r}")
    for table, columns in COLUMNS.items():
        present = _present(table)
        for name in columns:
            if name not in present:
                op.add_column(table, sa.Column(name, sa.Text(), nullable=True))


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        present = _present(table)
        for name in reversed(columns):
            if name in present:
                op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
