"""SIGKILL ``report`` at random points; ``doctor`` names the dead runs, a rerun succeeds.

Each child is a real ``python -m crypto_analyzer report`` under a pinned clock (so every attempt
computes the same run instance id, the case that used to end in an IntegrityError). Kill points
are drawn from a seeded generator: early (imports, dataset identity), while computing (the run
row exists, no artifact yet), or after a drawn number of artifact files has appeared. Afterwards
nothing may be left ``running``, every killed run that got a row is ``interrupted``, and every
file in the store is either referenced by a lineage row or listed by ``audit verify`` as an orphan.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from report_workspace import SMALL_TOML, workspace

from crypto_analyzer.artifacts import open_store
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.governance import verify_workspace
from crypto_analyzer.governance.bundles import store_key

FILES_PER_RUN = 35  # artifacts of a complete small run (incl. power 2, envelopes 4, regimes 2)
KILLS = 5


def _cli(settings: Settings, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CRYPTO_ANALYZER_DB_URL": settings.db_url,
        "CRYPTO_ANALYZER_ARTIFACTS": settings.artifacts,
        "CRYPTO_ANALYZER_FIXED_TIME": "2025-02-01T00:00:00Z",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "crypto_analyzer", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _files(root: Path) -> int:
    return sum(1 for _, _, names in os.walk(root) for name in names if not name.startswith(".tmp-"))


def _run_rows(settings: Settings) -> int:
    engine = create_db_engine(settings.db_url, read_only=True)
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT COUNT(*) FROM runs")).scalar_one()
    engine.dispose()
    return int(count)


def _wait(child: subprocess.Popen[bytes], done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 120  # a hang guard, not a timing assertion
    while not done():
        assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
        assert time.monotonic() < deadline, "the report made no progress"
        time.sleep(0.002)


def _kill_at(
    child: subprocess.Popen[bytes], settings: Settings, root: Path, point: tuple[str, int],
    rng: random.Random,
) -> None:  # fmt: skip
    """Kill ``early`` (imports, dataset identity), while ``computing`` (the run row exists, no
    artifact yet) or while ``writing`` (after that many more artifact files exist)."""
    kind, target = point
    if kind == "early":
        time.sleep(rng.uniform(0.2, 1.2))
    elif kind == "computing":
        rows = _run_rows(settings)
        _wait(child, lambda: _run_rows(settings) > rows)
        time.sleep(rng.uniform(0.0, 0.3))
    else:
        goal = _files(root) + target
        _wait(child, lambda: _files(root) >= goal)
        time.sleep(rng.uniform(0.0, 0.004))  # land anywhere: mid-put, between puts
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, "the child finished before it could be killed"


def _statuses(settings: Settings) -> dict[str, str]:
    engine = create_db_engine(settings.db_url, read_only=True)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT run_instance_id, status FROM runs")).all()
    engine.dispose()
    return {run: status for run, status in rows}


def test_killed_reports_are_named_closed_and_a_rerun_succeeds(tmp_path: Path) -> None:
    settings = workspace(tmp_path)
    config = tmp_path / "small.toml"
    config.write_text(SMALL_TOML)
    root = tmp_path / "artifacts"
    rng = random.Random(20250201)
    kinds = ["early", "computing", *["writing"] * (KILLS - 2)]
    rng.shuffle(kinds)
    kinds.append(kinds.pop(kinds.index("writing")))  # the last dies with a row, for doctor
    for kind in kinds:
        point = (kind, rng.randint(1, FILES_PER_RUN - 7))
        _kill_at(_cli(settings, "report", "--config", str(config)), settings, root, point, rng)

    killed = _statuses(settings)
    assert killed and all(status in ("running", "interrupted") for status in killed.values())
    dead = sorted(run for run, status in killed.items() if status == "running")
    assert dead  # at least the last killed run is still marked running
    out, _ = _cli(settings, "doctor", "--json").communicate(timeout=120)
    checks = {check["name"]: check for check in json.loads(out)["checks"]}
    assert not checks["report runs"]["ok"]
    assert all(f"run {run}" in checks["report runs"]["detail"] for run in dead)

    rerun = _cli(settings, "report", "--config", str(config), "--json")
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    final = json.loads(out)["run_instance_id"]
    statuses = _statuses(settings)
    assert statuses.pop(final) == "succeeded"
    assert set(statuses) == set(killed) and set(statuses.values()) == {"interrupted"}

    store = open_store(settings.artifacts)
    engine = create_db_engine(settings.db_url, read_only=True)
    report = verify_workspace(engine, store, "default")
    with engine.connect() as connection:
        uris = connection.execute(sa.text("SELECT uri FROM artifact_lineage")).scalars().all()
    engine.dispose()
    assert report.ok, report.findings
    referenced = {store_key(store, uri) for uri in uris}
    orphaned = {orphan.key for orphan in report.orphans}
    stored = set(store.list("runs/"))
    assert stored == referenced | orphaned and not referenced & orphaned
    # Besides run output the store holds only the signed checkpoints of the ledger heads.
    anchors = set(store.list()) - stored
    assert anchors and all(key.startswith("checkpoints/default/") for key in anchors), anchors
    assert {orphan.run_instance_id for orphan in report.orphans} <= set(killed)
    assert {orphan.run_status for orphan in report.orphans} <= {"interrupted"}
    assert len([key for key in stored if key.startswith(f"runs/{final}/")]) == FILES_PER_RUN
