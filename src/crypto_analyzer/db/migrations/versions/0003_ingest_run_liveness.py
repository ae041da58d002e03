"""Ingest run liveness: which process owns a ``running`` ingest run.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

A poll left running for weeks, or a long backfill, can die without a word (SIGKILL, OOM, power
loss); its ingest run row then says ``running`` forever, and a reviewer cannot tell a live run
from a dead one. The row now records the process id and host that started it, so a later command
on the same host can see that the process is gone and close the run as ``interrupted`` with the
reason. Both columns are nullable: runs written before this revision have no owner on record.

Self-contained like the earlier revisions; guarded so running it twice converges.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INT64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COLUMNS = (("pid", INT64), ("host", sa.Text()))


def _existing() -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns("ingest_runs")}


def upgrade() -> None:
    present = _existing()
    for name, column_type in COLUMNS:
        if name not in present:
            op.add_column("ingest_runs", sa.Column(name, column_type, nullable=True))


def downgrade() -> None:
    present = _existing()
    for name, _ in reversed(COLUMNS):
        if name in present:
            op.drop_column("ingest_runs", name)
