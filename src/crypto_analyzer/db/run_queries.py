"""Paged and filtered reads of the experiment registry: run pages, metric history, run artifacts.

``db.registry`` answers "this run" and "the newest runs"; dashboards and schedulers also need a
window over many runs (10,000 and more) without reading them all. Every query here is keyset-paged
on the primary key (run instance ids are time-ordered), filtered by tenant first, and read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.db.registry import RunRecord, run_record
from crypto_analyzer.db.schema import artifact_lineage, run_artifacts, run_metrics, runs
from crypto_analyzer.db.schema.experiments import RUN_STATUSES

__all__ = [
    "MAX_PAGE",
    "MetricPoint",
    "RunArtifactRow",
    "RunFilter",
    "find_run_artifact",
    "latest_run",
    "list_run_artifacts",
    "metric_history",
    "page_runs",
]

MAX_PAGE = 500
"""Largest page any paged read returns; a bigger ``limit`` is refused, not silently cut."""


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Which runs a page holds; ``None`` fields do not filter.

    ``with_artifact`` keeps runs that recorded a lineage row of that logical name (how a signal's
    runs are found: each evaluated signal has its bundle). Times are ISO-8601 UTC strings as stored.
    """

    status: str | None = None
    with_artifact: str | None = None
    started_from: str | None = None
    started_before: str | None = None


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One value of a metric: the run that recorded it and when that run started."""

    run_instance_id: str
    started_at: str
    value: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_instance_id": self.run_instance_id,
            "started_at": self.started_at,
            "value": self.value,
        }


@dataclass(frozen=True, slots=True)
class RunArtifactRow:
    """An artifact a run recorded (``run_artifacts``, else its lineage row)."""

    name: str
    sha256: str
    uri: str
    media_type: str
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "media_type": self.media_type,
            "name": self.name,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "uri": self.uri,
        }


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be an integer in 1..{MAX_PAGE}, got {limit!r}")


def page_runs(
    engine: Engine, tenant_id: str, where: RunFilter, *, after: str | None, limit: int
) -> tuple[list[RunRecord], str | None]:
    """Up to ``limit`` runs, newest first, older than run ``after``; and the next ``after``.

    The second value is the last run id of the page when more runs match, else ``None``.
    """
    _check_limit(limit)
    if where.status is not None and where.status not in RUN_STATUSES:
        raise ValidationError(
            f"run status {where.status!r} is not one of: {', '.join(RUN_STATUSES)}"
        )
    query = sa.select(runs).where(runs.c.tenant_id == tenant_id)
    if after is not None:
        query = query.where(runs.c.run_instance_id < after)
    if where.status is not None:
        query = query.where(runs.c.status == where.status)
    if where.started_from is not None:
        query = query.where(runs.c.started_at >= where.started_from)
    if where.started_before is not None:
        query = query.where(runs.c.started_at < where.started_before)
    if where.with_artifact is not None:
        query = query.where(
            sa.exists().where(
                artifact_lineage.c.tenant_id == runs.c.tenant_id,
                artifact_lineage.c.run_instance_id == runs.c.run_instance_id,
                artifact_lineage.c.logical_name == where.with_artifact,
            )
        )
    query = query.order_by(runs.c.run_instance_id.desc()).limit(limit + 1)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    records = [run_record(row, {}) for row in rows[:limit]]
    more = len(rows) > limit
    return records, (records[-1].run_instance_id if more and records else None)


def metric_history(
    engine: Engine, tenant_id: str, name: str, *, after: str | None, limit: int
) -> tuple[list[MetricPoint], str | None]:
    """Values of metric ``name`` across the tenant's runs, newest run first, keyset-paged."""
    _check_limit(limit)
    query = (
        sa.select(runs.c.run_instance_id, runs.c.started_at, run_metrics.c.value)
        .select_from(
            run_metrics.join(
                runs,
                sa.and_(
                    runs.c.tenant_id == run_metrics.c.tenant_id,
                    runs.c.run_instance_id == run_metrics.c.run_instance_id,
                ),
            )
        )
        .where(run_metrics.c.tenant_id == tenant_id, run_metrics.c.name == name)
    )
    if after is not None:
        query = query.where(runs.c.run_instance_id < after)
    query = query.order_by(runs.c.run_instance_id.desc()).limit(limit + 1)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    points = [MetricPoint(str(row[0]), str(row[1]), row[2]) for row in rows[:limit]]
    more = len(rows) > limit
    return points, (points[-1].run_instance_id if more and points else None)


def latest_run(engine: Engine, tenant_id: str, *, status: str = "succeeded") -> RunRecord | None:
    """The tenant's newest run of ``status`` with its metrics, or ``None``."""
    with engine.connect() as connection:
        row = (
            connection.execute(
                sa.select(runs)
                .where(runs.c.tenant_id == tenant_id, runs.c.status == status)
                .order_by(runs.c.run_instance_id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        metrics = connection.execute(
            sa.select(run_metrics.c.name, run_metrics.c.value)
            .where(
                run_metrics.c.tenant_id == tenant_id,
                run_metrics.c.run_instance_id == row["run_instance_id"],
            )
            .order_by(run_metrics.c.name)
        ).all()
    return run_record(row, {str(name): value for name, value in metrics})


def list_run_artifacts(engine: Engine, tenant_id: str, run_id: str) -> list[RunArtifactRow]:
    """The artifacts registered for a run (``run_artifacts``), by name."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(run_artifacts)
            .where(
                run_artifacts.c.tenant_id == tenant_id, run_artifacts.c.run_instance_id == run_id
            )
            .order_by(run_artifacts.c.name)
        ).mappings()
        return [
            RunArtifactRow(
                row["name"],
                row["artifact_sha256"],
                row["uri"],
                row["media_type"],
                int(row["size_bytes"]),
            )
            for row in rows
        ]


def find_run_artifact(
    engine: Engine, tenant_id: str, run_id: str, name: str
) -> RunArtifactRow | None:
    """Artifact ``name`` of a run: its ``run_artifacts`` row, else its lineage row (evidence and
    bundles are recorded in lineage only), else ``None``."""
    with engine.connect() as connection:
        row = (
            connection.execute(
                sa.select(run_artifacts).where(
                    run_artifacts.c.tenant_id == tenant_id,
                    run_artifacts.c.run_instance_id == run_id,
                    run_artifacts.c.name == name,
                )
            )
            .mappings()
            .first()
        )
        if row is not None:
            return RunArtifactRow(
                name, row["artifact_sha256"], row["uri"], row["media_type"], int(row["size_bytes"])
            )
        lineage = (
            connection.execute(
                sa.select(artifact_lineage).where(
                    artifact_lineage.c.tenant_id == tenant_id,
                    artifact_lineage.c.run_instance_id == run_id,
                    artifact_lineage.c.logical_name == name,
                )
            )
            .mappings()
            .first()
        )
    if lineage is None:
        return None
    media = "application/json" if name.endswith(".json") else "application/octet-stream"
    return RunArtifactRow(
        name, lineage["artifact_sha256"], lineage["uri"], media, int(lineage["size_bytes"])
    )
