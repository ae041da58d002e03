"""Which process owns a running ingest run, and closing the runs whose process is gone.

An ingest run is ``running`` from ``start_run`` until ``finish_run``. A process killed in between
(SIGKILL, OOM, a reboot) never reaches ``finish_run``, and its row would claim to be running
forever — misleading anyone reading the ingestion history. Each run records the pid and host that
started it; every later ``start_run`` first closes, as ``interrupted`` with the reason, the running
runs of *this* host whose process no longer exists. Runs of other hosts are left alone: their
liveness cannot be checked from here. A pid reused by an unrelated process keeps a dead run open
(the safe direction: nothing live is ever closed).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crypto_analyzer.core.clock import now, to_iso
from crypto_analyzer.db.schema import ingest_runs, market_revisions

__all__ = ["ClosedRun", "close_dead_runs", "process_alive", "process_owner", "recorded_revision"]


@dataclass(frozen=True, slots=True)
class ClosedRun:
    """A running ingest run found dead and closed as ``interrupted``."""

    ingest_run_id: str
    pid: int
    host: str
    reason: str


def process_owner() -> tuple[int, str]:
    """``(pid, host)`` of this process, as recorded on the runs it starts."""
    return os.getpid(), socket.gethostname()


def recorded_revision(tenant_id: str, ingest_run_id: str) -> sa.ScalarSelect[int]:
    """The highest market revision an ingest run recorded (NULL if none), as a scalar subquery
    for the UPDATE that closes the run (``ingest_runs.last_revision``)."""
    return (
        sa.select(sa.func.max(market_revisions.c.revision))
        .where(
            market_revisions.c.tenant_id == tenant_id,
            market_revisions.c.ingest_run_id == ingest_run_id,
        )
        .scalar_subquery()
    )


def close_dead_runs(connection: Connection, *, tenant_id: str) -> list[ClosedRun]:
    """Close this host's running runs whose process is gone; returns what was closed.

    Runs inside the caller's transaction; the update re-checks ``status = 'running'`` so a run
    finished meanwhile by its (live) owner is never overwritten.
    """
    pid, host = process_owner()
    candidates = connection.execute(
        sa.select(ingest_runs.c.ingest_run_id, ingest_runs.c.pid).where(
            ingest_runs.c.tenant_id == tenant_id,
            ingest_runs.c.status == "running",
            ingest_runs.c.host == host,
            ingest_runs.c.pid.is_not(None),
            ingest_runs.c.pid != pid,
        )
    ).all()
    closed: list[ClosedRun] = []
    stamp = to_iso(now())
    for run_id, owner in candidates:
        if process_alive(int(owner)):
            continue
        reason = (
            f"interrupted: process {owner} on {host} ended without finishing the run "
            "(killed or crashed); its committed batches are kept, a rerun resumes"
        )
        updated = connection.execute(
            ingest_runs.update()
            .where(
                ingest_runs.c.tenant_id == tenant_id,
                ingest_runs.c.ingest_run_id == run_id,
                ingest_runs.c.status == "running",
            )
            .values(
                status="interrupted",
                finished_at=stamp,
                error=reason,
                last_revision=recorded_revision(tenant_id, run_id),
            )
        )
        if updated.rowcount:
            closed.append(ClosedRun(run_id, int(owner), host, reason))
    return closed


def process_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this host (signal 0 probes without signalling)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
