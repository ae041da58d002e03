"""Experiment registry: runs, their metrics and artifacts, in the main database.

A run row is written when the run starts (status ``running``, with the pid and host that own it)
and closed with its metrics when it ends, so a crash leaves an honest ``running``/``failed`` row
instead of nothing; a ``running`` row whose process died is closed as ``interrupted`` by the next
run on its host (``db.run_liveness``). Reads accept a
unique prefix of a run instance id, which is how people type them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RowMapping

from crypto_analyzer.core.canonical_json import canonical_dumps, canonical_loads
from crypto_analyzer.core.clock import now, to_iso
from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.core.identities import DatasetId, config_digest
from crypto_analyzer.core.versions import ENGINE_VERSION, SEED_VERSION, SPEC_VERSION
from crypto_analyzer.db.dataset_id import TableDigest
from crypto_analyzer.db.ingest_liveness import process_owner
from crypto_analyzer.db.schema import run_artifacts, run_metrics, runs
from crypto_analyzer.db.schema.experiments import RUN_STATUSES

__all__ = [
    "RunDiff",
    "RunRecord",
    "diff_runs",
    "finish_run",
    "get_run",
    "list_runs",
    "record_run_artifact",
    "resolve_run_id",
    "run_record",
    "start_run",
]


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One experiment execution as stored."""

    run_instance_id: str
    run_key: str
    dataset_id: str
    dataset_mode: str
    config: dict[str, Any]
    config_digest: str
    engine_version: str
    spec_version: str
    seed_version: int
    hypothesis: str | None
    tags: list[str]
    actor: str
    status: str
    started_at: str
    finished_at: str | None
    error: str | None
    metrics: dict[str, float | None]
    data_watermark: int | None = None
    """Market watermark the dataset id was taken at (None for runs before point-in-time data)."""
    dataset_tables: tuple[dict[str, Any], ...] | None = None
    """Per-table digests behind the dataset id (None for runs before revision 0015)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "config": self.config,
            "config_digest": self.config_digest,
            "data_watermark": self.data_watermark,
            "dataset_id": self.dataset_id,
            "dataset_mode": self.dataset_mode,
            "engine_version": self.engine_version,
            "error": self.error,
            "finished_at": self.finished_at,
            "hypothesis": self.hypothesis,
            "metrics": self.metrics,
            "run_instance_id": self.run_instance_id,
            "run_key": self.run_key,
            "seed_version": self.seed_version,
            "spec_version": self.spec_version,
            "started_at": self.started_at,
            "status": self.status,
            "tags": self.tags,
        }


def start_run(
    connection: Connection,
    *,
    tenant_id: str,
    run_key: str,
    run_instance_id: str,
    dataset_id: DatasetId,
    config: Mapping[str, Any],
    actor: str,
    hypothesis: str | None = None,
    tags: Sequence[str] = (),
    data_watermark: int | None = None,
    dataset_tables: Sequence[TableDigest] = (),
) -> None:
    """Insert the run row with status ``running``, owned by this process (pid and host);
    ``data_watermark`` is the market watermark ``dataset_id`` was taken at, so the run's data can
    be read again as it was; ``dataset_tables`` are the per-table digests behind ``dataset_id``,
    so a later reproduction can name the tables that changed (NULL when none are given)."""
    pid, host = process_owner()
    connection.execute(
        runs.insert().values(
            tenant_id=tenant_id,
            run_instance_id=run_instance_id,
            run_key=run_key,
            dataset_id=dataset_id.value,
            dataset_mode=dataset_id.mode.value,
            config_json=canonical_dumps(dict(config)),
            config_digest=config_digest(config),
            engine_version=ENGINE_VERSION,
            spec_version=SPEC_VERSION,
            seed_version=SEED_VERSION,
            hypothesis=hypothesis,
            tags_json=canonical_dumps(sorted(tags)),
            actor=actor,
            status="running",
            started_at=to_iso(now()),
            pid=pid,
            host=host,
            data_watermark=data_watermark,
            dataset_tables_json=(
                canonical_dumps([table.to_dict() for table in dataset_tables])
                if dataset_tables
                else None
            ),
        )
    )


def finish_run(
    connection: Connection,
    *,
    tenant_id: str,
    run_instance_id: str,
    status: str,
    metrics: Mapping[str, float | None] | None = None,
    error: str | None = None,
) -> None:
    """Close a run: final status, finish time, metrics (non-finite values stored as NULL)."""
    if status not in RUN_STATUSES or status == "running":
        allowed = ", ".join(value for value in RUN_STATUSES if value != "running")
        raise ValidationError(f"final run status {status!r} is not one of {allowed}")
    updated = connection.execute(
        runs.update()
        .where(runs.c.tenant_id == tenant_id, runs.c.run_instance_id == run_instance_id)
        .values(status=status, finished_at=to_iso(now()), error=error)
    )
    if updated.rowcount != 1:
        raise NotFoundError(f"run {run_instance_id} does not exist for tenant {tenant_id!r}")
    rows = [
        {
            "tenant_id": tenant_id,
            "run_instance_id": run_instance_id,
            "name": name,
            "value": None if value is None or not math.isfinite(value) else float(value),
        }
        for name, value in sorted((metrics or {}).items())
    ]
    if rows:
        connection.execute(run_metrics.insert(), rows)


def record_run_artifact(
    connection: Connection,
    *,
    tenant_id: str,
    run_instance_id: str,
    name: str,
    sha256: str,
    uri: str,
    media_type: str,
    size_bytes: int,
) -> None:
    """Register an artifact a run wrote (the lineage row is written alongside by the caller)."""
    connection.execute(
        run_artifacts.insert().values(
            tenant_id=tenant_id,
            run_instance_id=run_instance_id,
            name=name,
            artifact_sha256=sha256,
            uri=uri,
            media_type=media_type,
            size_bytes=size_bytes,
        )
    )


def resolve_run_id(engine: Engine, tenant_id: str, prefix: str) -> str:
    """Full run instance id from a unique prefix (≥ 4 characters)."""
    if len(prefix) < 4:
        raise ValidationError(f"run id {prefix!r} is too short", "give at least 4 characters")
    with engine.connect() as connection:
        found = (
            connection.execute(
                sa.select(runs.c.run_instance_id)
                .where(runs.c.tenant_id == tenant_id, runs.c.run_instance_id.startswith(prefix))
                .limit(2)
            )
            .scalars()
            .all()
        )
    if not found:
        raise NotFoundError(
            f"no run matches {prefix!r}", "list runs with `crypto-analyzer runs list`"
        )
    if len(found) > 1:
        raise ValidationError(f"run id prefix {prefix!r} is ambiguous", "give more characters")
    return str(found[0])


def run_record(row: RowMapping, metrics: dict[str, float | None]) -> RunRecord:
    """A :class:`RunRecord` from a ``runs`` row and its metrics (shared by every run read)."""
    return RunRecord(
        run_instance_id=row["run_instance_id"],
        run_key=row["run_key"],
        dataset_id=row["dataset_id"],
        dataset_mode=row["dataset_mode"],
        config=canonical_loads(row["config_json"]),
        config_digest=row["config_digest"],
        engine_version=row["engine_version"],
        spec_version=row["spec_version"],
        seed_version=int(row["seed_version"]),
        hypothesis=row["hypothesis"],
        tags=list(canonical_loads(row["tags_json"])),
        actor=row["actor"],
        status=row["status"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        error=row["error"],
        metrics=metrics,
        data_watermark=None if row["data_watermark"] is None else int(row["data_watermark"]),
        dataset_tables=(
            None
            if row.get("dataset_tables_json") is None
            else tuple(canonical_loads(row["dataset_tables_json"]))
        ),
    )


def get_run(engine: Engine, tenant_id: str, run_instance_id: str) -> RunRecord:
    """One run with its metrics; accepts a unique id prefix."""
    full = resolve_run_id(engine, tenant_id, run_instance_id)
    with engine.connect() as connection:
        row = (
            connection.execute(
                sa.select(runs).where(runs.c.tenant_id == tenant_id, runs.c.run_instance_id == full)
            )
            .mappings()
            .one()
        )
        metric_rows = connection.execute(
            sa.select(run_metrics.c.name, run_metrics.c.value)
            .where(run_metrics.c.tenant_id == tenant_id, run_metrics.c.run_instance_id == full)
            .order_by(run_metrics.c.name)
        ).all()
    return run_record(row, {name: value for name, value in metric_rows})


def list_runs(engine: Engine, tenant_id: str, limit: int = 50) -> list[RunRecord]:
    """Most recent runs first (ids are time-ordered), without metrics."""
    if limit < 1:
        raise ValidationError(f"limit must be >= 1, got {limit}")
    with engine.connect() as connection:
        rows = (
            connection.execute(
                sa.select(runs)
                .where(runs.c.tenant_id == tenant_id)
                .order_by(runs.c.run_instance_id.desc())
                .limit(limit)
            )
            .mappings()
            .all()
        )
    return [run_record(row, {}) for row in rows]


@dataclass(frozen=True, slots=True)
class RunDiff:
    """What differs between two runs: identity, config leaves, metrics."""

    left: str
    right: str
    identity: dict[str, tuple[Any, Any]]
    config: dict[str, tuple[Any, Any]]
    metrics: dict[str, tuple[float | None, float | None]]

    def to_dict(self) -> dict[str, Any]:
        def pairs(mapping: Mapping[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
            return {key: list(value) for key, value in sorted(mapping.items())}

        return {
            "config": pairs(self.config),
            "identity": pairs(self.identity),
            "left": self.left,
            "metrics": pairs(self.metrics),
            "right": self.right,
        }


def _flatten(value: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key in sorted(value):
            yield from _flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def diff_runs(engine: Engine, tenant_id: str, left: str, right: str) -> RunDiff:
    """Config (flattened to dotted keys) and metric differences between two runs."""
    a, b = get_run(engine, tenant_id, left), get_run(engine, tenant_id, right)
    identity = {
        field: (getattr(a, field), getattr(b, field))
        for field in ("run_key", "dataset_id", "config_digest", "engine_version", "spec_version")
        if getattr(a, field) != getattr(b, field)
    }
    config_a, config_b = dict(_flatten(a.config)), dict(_flatten(b.config))
    config = {
        key: (config_a.get(key), config_b.get(key))
        for key in sorted(set(config_a) | set(config_b))
        if config_a.get(key) != config_b.get(key)
    }
    metrics = {
        key: (a.metrics.get(key), b.metrics.get(key))
        for key in sorted(set(a.metrics) | set(b.metrics))
        if a.metrics.get(key) != b.metrics.get(key)
    }
    return RunDiff(a.run_instance_id, b.run_instance_id, identity, config, metrics)
