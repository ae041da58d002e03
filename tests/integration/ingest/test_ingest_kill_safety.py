"""SIGKILL a backfill at random points; after a rerun the data equals an uninterrupted run's."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import backfill_child
import sqlalchemy as sa
from replay import ReplayServer

from conftest import START_MS
from crypto_analyzer.db.dataset_id import compute_dataset_id
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import upgrade

CHILD = Path(__file__).with_name("backfill_child.py")
SINCE = START_MS + 40 * 86_400_000  # ~20 days of hourly bars per symbol
OHLC = "/0/public/OHLC"


def _start(db_url: str, server: ReplayServer) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), db_url, server.url, str(SINCE)],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _finish(child: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, err = child.communicate(timeout=300)
    return child.returncode, err.decode()


def _wait_for_requests(server: ReplayServer, target: int, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120  # a hang guard, not a timing assertion
    while server.replay.count(OHLC) < target:
        assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
        assert time.monotonic() < deadline, "child made no progress"
        time.sleep(0.002)


def _migrated(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def test_killed_backfills_converge_to_the_uninterrupted_result(
    tmp_path: Path, replay_server: ReplayServer
) -> None:
    clean_url = _migrated(tmp_path / "clean.sqlite")
    backfill_child.main(clean_url, replay_server.url, str(SINCE))  # same code, in process
    pages = replay_server.replay.count(OHLC)
    assert pages >= 30  # 2 symbols × 16 pages of 30 candles

    killed_url = _migrated(tmp_path / "killed.sqlite")
    rng = random.Random(20240301)
    for _ in range(3):
        child = _start(killed_url, replay_server)
        already = replay_server.replay.count(OHLC)
        _wait_for_requests(replay_server, already + rng.randint(1, pages // 4), child)
        time.sleep(rng.uniform(0.0, 0.03))  # land anywhere: mid-request, mid-write, mid-commit
        child.send_signal(signal.SIGKILL)
        assert _finish(child)[0] == -signal.SIGKILL
    code, err = _finish(_start(killed_url, replay_server))
    assert code == 0, err

    engines = [create_db_engine(url) for url in (clean_url, killed_url)]
    try:
        clean_id, killed_id = (compute_dataset_id(engine) for engine in engines)
        assert killed_id.dataset_id == clean_id.dataset_id
        assert [t.row_count for t in killed_id.tables] == [t.row_count for t in clean_id.tables]
        with engines[1].connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
            statuses = connection.execute(
                sa.text("SELECT status, COUNT(*) FROM ingest_runs GROUP BY status ORDER BY status")
            ).all()
        counts = dict(statuses)
        # Each new run closed its killed predecessors (same host, process gone) as interrupted.
        assert counts["succeeded"] == 1 and counts.get("interrupted", 0) >= 1, counts
        assert "running" not in counts, counts
    finally:
        for engine in engines:
            engine.dispose()
