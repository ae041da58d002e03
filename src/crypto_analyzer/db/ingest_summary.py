"""Read-only summaries of ingestion for dashboards: recent ingest runs, quarantine by reason,
the dataset ids runs were recorded against.

``ingest_runs`` and ``ingest_rejects`` are written by ``db.provenance``; nothing read them back as
a whole until the data-health page needed "what came in lately and what was quarantined". Every
query filters by tenant first and never writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.db.schema import ingest_rejects, ingest_runs, runs

__all__ = [
    "DatasetUse",
    "IngestRunRow",
    "RejectCount",
    "dataset_uses",
    "recent_ingest_runs",
    "rejects_by_reason",
]


@dataclass(frozen=True, slots=True)
class IngestRunRow:
    """One ingest run as a dashboard lists it (no parameters, no host details)."""

    ingest_run_id: str
    kind: str
    provider: str
    actor: str
    status: str
    started_at: str
    finished_at: str | None
    n_received: int
    n_accepted: int
    n_rejected: int
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class RejectCount:
    """How many quarantined records share one (data kind, reason)."""

    data_kind: str
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class DatasetUse:
    """A dataset id that report runs recorded, with how many runs and the newest start."""

    dataset_id: str
    dataset_mode: str
    runs: int
    last_started_at: str


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise ValidationError(f"limit must be an integer in 1..1000, got {limit!r}")


def recent_ingest_runs(engine: Engine, tenant_id: str, limit: int = 20) -> list[IngestRunRow]:
    """The tenant's newest ingest runs first."""
    _check_limit(limit)
    table = ingest_runs
    query = (
        sa.select(
            table.c.ingest_run_id,
            table.c.kind,
            table.c.provider,
            table.c.actor,
            table.c.status,
            table.c.started_at,
            table.c.finished_at,
            table.c.n_received,
            table.c.n_accepted,
            table.c.n_rejected,
            table.c.error,
        )
        .where(table.c.tenant_id == tenant_id)
        .order_by(table.c.started_at.desc(), table.c.ingest_run_id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [IngestRunRow(*row[:7], int(row[7]), int(row[8]), int(row[9]), row[10]) for row in rows]


def rejects_by_reason(engine: Engine, tenant_id: str) -> list[RejectCount]:
    """Quarantined records of the tenant counted by data kind and reason, largest first."""
    table = ingest_rejects
    count = sa.func.count().label("n")
    query = (
        sa.select(table.c.data_kind, table.c.reason, count)
        .where(table.c.tenant_id == tenant_id)
        .group_by(table.c.data_kind, table.c.reason)
        .order_by(count.desc(), table.c.data_kind, table.c.reason)
    )
    with engine.connect() as connection:
        return [RejectCount(row[0], row[1], int(row[2])) for row in connection.execute(query)]


def dataset_uses(engine: Engine, tenant_id: str) -> list[DatasetUse]:
    """Every dataset id the tenant's runs recorded, newest use first."""
    last = sa.func.max(runs.c.started_at).label("last")
    query = (
        sa.select(runs.c.dataset_id, runs.c.dataset_mode, sa.func.count().label("n"), last)
        .where(runs.c.tenant_id == tenant_id)
        .group_by(runs.c.dataset_id, runs.c.dataset_mode)
        .order_by(last.desc())
    )
    with engine.connect() as connection:
        return [
            DatasetUse(row[0], row[1], int(row[2]), row[3]) for row in connection.execute(query)
        ]
