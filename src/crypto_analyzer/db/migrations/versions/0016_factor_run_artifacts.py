"""Factor run values move to the artifact store; ``factor_runs`` keeps their digests.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

Until now a factor run's betas, alphas, R^2 and residuals were long-format rows of
``factor_betas`` and ``factor_residuals``: at 200 assets x 1 year that is about 700 MB of a
1,067 MB database, storing takes 20-35 s and reading back takes longer than refitting. From this
revision the values of a new run are one zstd-compressed Arrow file in the artifact store, and the
run row records four new columns (all nullable, both dialects):

* ``values_digest`` — SHA-256 of the fitted values (encoding-independent, so a refit can be
  verified against it as well as a decoded file);
* ``artifact_key``, ``artifact_sha256``, ``artifact_size`` — the content-addressed file.

Existing runs are migrated without losing a value: their rows stay where they are and stay
readable (``values_digest`` NULL marks such a run). The application converts a run on its first
reuse — it reads the rows, writes the file, records both digests and deletes the rows in one
transaction — so no run is ever without its values, and a revision cannot convert on its own
because it has neither the artifact store nor the bar grid a run was fitted on (rows omit the
warm-up cells). ``crypto-analyzer materialize factors`` on a dataset converts that dataset's run.

No new table, so no new row-level security policy: the columns are covered by the policies that
revision 0011 put on ``factor_runs``. No trigger names these columns.

Idempotent: a column is added only when missing. The downgrade deletes the runs whose values are
not rows (``values_digest`` NOT NULL: their values live in the store, which the old layout cannot
read; the files stay, and the old code refits such a run on its next use), then drops the columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INT64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NEW_COLUMNS = (
    ("values_digest", sa.Text()),
    ("artifact_key", sa.Text()),
    ("artifact_sha256", sa.Text()),
    ("artifact_size", INT64),
)


def _columns() -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns("factor_runs")}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - settings allow only these
        raise NotImplementedError(f"factor run artifacts are not written for {dialect!r}")
    present = _columns()
    for name, kind in NEW_COLUMNS:
        if name not in present:
            op.add_column("factor_runs", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    present = _columns()
    if "values_digest" in present:
        # Only rows exist below 0016: a run whose values are a file cannot be read there.
        op.execute("DELETE FROM factor_runs WHERE values_digest IS NOT NULL")
    for name, _ in reversed(NEW_COLUMNS):
        if name in present:
            # Plain DROP COLUMN on both dialects (SQLite >= 3.35): no index or trigger names it.
            op.execute(f"ALTER TABLE factor_runs DROP COLUMN {name}")
