"""A running ingest run whose process died is closed as interrupted by the next run on its host."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import sqlalchemy as sa

from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.db.provenance import ProvenanceWriter
from crypto_analyzer.db.schema import ingest_runs


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _running(engine: sa.Engine, run_id: str, pid: int, host: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            ingest_runs.insert().values(
                tenant_id="default", ingest_run_id=run_id, kind="poll", provider="p",
                actor="t", params_json="{}", started_at="2024-01-01T00:00:00.000000Z",
                status="running", pid=pid, host=host,
            )
        )  # fmt: skip


def _runs(engine: sa.Engine) -> dict[str, tuple[str, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(ingest_runs.c.ingest_run_id, ingest_runs.c.status, ingest_runs.c.error)
        ).all()
    return {run_id: (status, error) for run_id, status, error in rows}


def test_next_run_closes_only_dead_runs_of_this_host(backend_engine: sa.Engine) -> None:
    upgrade(backend_engine)
    host = socket.gethostname()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = _dead_pid()
        _running(backend_engine, "ir_dead", dead, host)
        _running(backend_engine, "ir_live", sleeper.pid, host)
        _running(backend_engine, "ir_elsewhere", dead, host + "-other")
        _running(backend_engine, "ir_self", os.getpid(), host)

        writer = ProvenanceWriter(backend_engine, actor="t")
        run = writer.start_run("poll", "p", {"cycle": 1})
        runs = _runs(backend_engine)
    finally:
        sleeper.kill()
        sleeper.wait()

    status, error = runs["ir_dead"]
    assert status == "interrupted"
    assert error is not None and f"process {dead} on {host}" in error
    assert runs["ir_live"][0] == "running"  # its process is alive
    assert runs["ir_elsewhere"][0] == "running"  # another host: not ours to judge
    assert runs["ir_self"][0] == "running"  # this process
    with backend_engine.connect() as connection:
        owner = connection.execute(
            sa.select(ingest_runs.c.pid, ingest_runs.c.host).where(
                ingest_runs.c.ingest_run_id == run.ingest_run_id
            )
        ).one()
    assert tuple(owner) == (os.getpid(), host)
