"""Report runs whose process died: finding them, closing them, and starting a run after them.

A report run is ``running`` from its first transaction to its last. A process killed in between
(SIGKILL, OOM, a reboot) never reaches the last one: its row would say ``running`` forever, and
under a pinned clock (``CRYPTO_ANALYZER_FIXED_TIME``) every rerun would compute the same
``run_instance_id`` and collide with it. Each ``runs`` row records the pid and host that started
it (revision 0007); :func:`start_run_instance` first closes, as ``interrupted`` with the reason,
this host's running runs whose process is gone, then inserts the new run under the first free
attempt of its run key (:func:`~crypto_analyzer.core.identities.run_instance_id`), so a rerun
after a crash always starts. Runs of other hosts are left alone: their liveness cannot be checked
from here. :func:`liveness_check` is the read-only view of the same facts for ``doctor``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.core.clock import now, to_iso
from crypto_analyzer.core.errors import DatabaseError
from crypto_analyzer.core.identities import DatasetId, run_instance_id
from crypto_analyzer.db.dataset_id import TableDigest
from crypto_analyzer.db.health import HealthCheck
from crypto_analyzer.db.ingest_liveness import process_alive, process_owner
from crypto_analyzer.db.registry import start_run
from crypto_analyzer.db.schema import runs

__all__ = [
    "MAX_ATTEMPTS",
    "DeadRun",
    "StartedRun",
    "close_dead_runs",
    "dead_runs",
    "liveness_check",
    "start_run_instance",
]

MAX_ATTEMPTS = 10_000
"""Runs of one run key at one pinned instant before :func:`start_run_instance` gives up."""


@dataclass(frozen=True, slots=True)
class DeadRun:
    """A ``running`` run of this host whose process no longer exists."""

    run_instance_id: str
    pid: int
    host: str
    started_at: str

    @property
    def reason(self) -> str:
        return (
            f"interrupted: process {self.pid} on {self.host} ended without finishing the run "
            "(killed or crashed); artifacts it stored have no lineage and are listed as orphans "
            "by `crypto-analyzer audit verify`"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "pid": self.pid,
            "reason": self.reason,
            "run_instance_id": self.run_instance_id,
            "started_at": self.started_at,
        }


@dataclass(frozen=True, slots=True)
class StartedRun:
    """The run just inserted as ``running``, and the dead runs closed before it."""

    run_instance_id: str
    attempt: int
    closed: tuple[DeadRun, ...]


def dead_runs(connection: Connection, *, tenant_id: str) -> list[DeadRun]:
    """This host's ``running`` runs whose process is gone (read-only; this process excluded)."""
    pid, host = process_owner()
    rows = connection.execute(
        sa.select(runs.c.run_instance_id, runs.c.pid, runs.c.host, runs.c.started_at)
        .where(
            runs.c.tenant_id == tenant_id,
            runs.c.status == "running",
            runs.c.host == host,
            runs.c.pid.is_not(None),
            runs.c.pid != pid,
        )
        .order_by(runs.c.run_instance_id)
    ).all()
    return [
        DeadRun(str(run_id), int(owner), str(owner_host), str(started))
        for run_id, owner, owner_host, started in rows
        if not process_alive(int(owner))
    ]


def close_dead_runs(connection: Connection, *, tenant_id: str) -> list[DeadRun]:
    """Close :func:`dead_runs` as ``interrupted`` in the caller's transaction; returns them.

    The update re-checks ``status = 'running'``, so a run its (live) owner finished meanwhile is
    never overwritten.
    """
    closed: list[DeadRun] = []
    stamp = to_iso(now())
    for dead in dead_runs(connection, tenant_id=tenant_id):
        updated = connection.execute(
            runs.update()
            .where(
                runs.c.tenant_id == tenant_id,
                runs.c.run_instance_id == dead.run_instance_id,
                runs.c.status == "running",
            )
            .values(status="interrupted", finished_at=stamp, error=dead.reason)
        )
        if updated.rowcount:
            closed.append(dead)
    return closed


def start_run_instance(
    engine: Engine,
    *,
    tenant_id: str,
    run_key: str,
    dataset_id: DatasetId,
    config: Mapping[str, Any],
    actor: str,
    hypothesis: str | None = None,
    tags: Sequence[str] = (),
    data_watermark: int | None = None,
    dataset_tables: Sequence[TableDigest] = (),
) -> StartedRun:
    """Close dead runs, then insert this run as ``running`` under the first free instance id.

    Attempt 0 is the id the run key always had; a row already holding it (a crashed, failed or
    finished run under the same pinned clock) moves the run to attempt 1, and so on. Two runs
    racing for one attempt are settled by the primary key: the loser takes the next attempt.
    """
    with engine.begin() as connection:
        closed = tuple(close_dead_runs(connection, tenant_id=tenant_id))
    for attempt in range(MAX_ATTEMPTS):
        candidate = run_instance_id(run_key, attempt=attempt)
        try:
            with engine.begin() as connection:
                if _taken(connection, tenant_id, candidate):
                    continue
                start_run(
                    connection,
                    tenant_id=tenant_id,
                    run_key=run_key,
                    run_instance_id=candidate,
                    dataset_id=dataset_id,
                    config=config,
                    actor=actor,
                    hypothesis=hypothesis,
                    tags=tags,
                    data_watermark=data_watermark,
                    dataset_tables=dataset_tables,
                )
        except sa.exc.IntegrityError:
            with engine.connect() as connection:
                if not _taken(connection, tenant_id, candidate):
                    raise  # not a lost race for the id: a real constraint failure
            continue
        return StartedRun(candidate, attempt, closed)
    raise DatabaseError(
        f"run key {run_key[:16]}… has {MAX_ATTEMPTS} runs at this pinned instant",
        "unset CRYPTO_ANALYZER_FIXED_TIME or pin another time",
    )


def _taken(connection: Connection, tenant_id: str, candidate: str) -> bool:
    return (
        connection.execute(
            sa.select(runs.c.run_instance_id).where(
                runs.c.tenant_id == tenant_id, runs.c.run_instance_id == candidate
            )
        ).first()
        is not None
    )


def liveness_check(engine: Engine, *, tenant_id: str) -> HealthCheck:
    """``doctor``'s view: fails naming every running run of this host whose process is gone."""
    _, host = process_owner()
    with engine.connect() as connection:
        dead = dead_runs(connection, tenant_id=tenant_id)
        counts: dict[str, int] = dict(
            connection.execute(
                sa.select(runs.c.status, sa.func.count())
                .where(runs.c.tenant_id == tenant_id, runs.c.status.in_(("running", "interrupted")))
                .group_by(runs.c.status)
            ).all()
        )
        elsewhere = connection.execute(
            sa.select(sa.func.count()).where(
                runs.c.tenant_id == tenant_id,
                runs.c.status == "running",
                sa.or_(runs.c.host.is_(None), runs.c.host != host),
            )
        ).scalar_one()
    if dead:
        named = "; ".join(
            f"run {run.run_instance_id} (pid {run.pid} on {run.host}, started {run.started_at})"
            for run in dead
        )
        return HealthCheck(
            "report runs",
            False,
            f"{len(dead)} run(s) marked running whose process is gone: {named}; the next "
            "`crypto-analyzer report` on this host closes them as interrupted",
        )
    return HealthCheck(
        "report runs",
        True,
        f"{counts.get('running', 0)} running ({elsewhere} on other hosts or without an owner, "
        f"not checkable here), {counts.get('interrupted', 0)} interrupted",
    )
