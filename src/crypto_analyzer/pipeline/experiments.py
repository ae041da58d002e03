"""Read services over the experiment registry for the API, dashboards and notebooks.

The CLI's ``runs`` commands read single runs through ``db.registry``; these functions add what a
remote reader needs on top of the same tables: pages of runs filtered by signal, status and start
time; a metric's history; the newest report with its artifacts; and an artifact's bytes, checked
against the SHA-256 the run recorded before anyone receives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.errors import ArtifactStoreError, NotFoundError
from crypto_analyzer.core.hashing import sha256_bytes
from crypto_analyzer.db.registry import RunRecord, resolve_run_id
from crypto_analyzer.db.run_queries import (
    RunArtifactRow,
    RunFilter,
    find_run_artifact,
    latest_run,
    list_run_artifacts,
    page_runs,
)
from crypto_analyzer.governance.evidence import bundle_logical_name

__all__ = ["LatestReport", "experiments_page", "latest_report", "read_run_artifact"]


@dataclass(frozen=True, slots=True)
class LatestReport:
    """The newest succeeded run and the artifacts it registered."""

    run: RunRecord
    artifacts: list[RunArtifactRow]

    def to_dict(self) -> dict[str, Any]:
        return {
            "artifacts": [item.to_dict() for item in self.artifacts],
            "run": self.run.to_dict(),
        }


def experiments_page(
    engine: Engine,
    tenant_id: str,
    *,
    signal: str | None = None,
    status: str | None = None,
    started_from: str | None = None,
    started_before: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> tuple[list[RunRecord], str | None]:
    """Runs newest first; ``signal`` keeps runs that produced that signal's validation bundle."""
    where = RunFilter(
        status=status,
        with_artifact=None if signal is None else bundle_logical_name(signal),
        started_from=started_from,
        started_before=started_before,
    )
    return page_runs(engine, tenant_id, where, after=after, limit=limit)


def latest_report(engine: Engine, tenant_id: str) -> LatestReport:
    """The newest succeeded run with its artifacts; :class:`NotFoundError` when there is none."""
    run = latest_run(engine, tenant_id)
    if run is None:
        raise NotFoundError(
            f"tenant {tenant_id!r} has no succeeded run yet", "run `crypto-analyzer report`"
        )
    return LatestReport(run, list_run_artifacts(engine, tenant_id, run.run_instance_id))


def read_run_artifact(
    engine: Engine, store: ArtifactStore, tenant_id: str, run_id: str, name: str
) -> tuple[RunArtifactRow, bytes]:
    """The recorded artifact ``name`` of a run and its bytes, verified against the recorded hash.

    Bytes that do not hash to what the run recorded are never handed out
    (:class:`ArtifactStoreError`); an artifact recorded in another store is not found here.
    """
    full = resolve_run_id(engine, tenant_id, run_id)
    row = find_run_artifact(engine, tenant_id, full, name)
    prefix = store.url + "/"
    if row is None or not row.uri.startswith(prefix):
        raise NotFoundError(
            f"run {full} has no artifact {name!r} in this artifact store",
            "see the run's artifacts in GET /reports/latest or `crypto-analyzer audit trace`",
        )
    data = store.get(row.uri[len(prefix) :])
    if sha256_bytes(data) != row.sha256:
        raise ArtifactStoreError(
            f"artifact {name!r} of run {full} does not match the SHA-256 the run recorded",
            "the store was altered; run `crypto-analyzer audit verify`",
        )
    return row, data
