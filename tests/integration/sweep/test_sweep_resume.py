"""A sweep whose client is killed mid-way resumes without recomputing its finished chunks.

The sweep runs through the real CLI in a child process, which is SIGKILLed once a few chunk
checkpoints are in the store; ``--resume`` then evaluates exactly the chunks without one, and the
results are byte-identical to a sweep that was never interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sweep_workspace import count, grid, workspace
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.pipeline.sweep import parse_sweep_config, run_sweep

IDENTICAL = ("sweep/trials.parquet", "sweep/series.parquet", "sweep/family.json")


def _toml(mapping: dict, path: Path) -> Path:
    """The sweep mapping as TOML (inline tables are enough for these grids)."""

    def value(item: object) -> str:
        if isinstance(item, dict):
            return "{ " + ", ".join(f"{k} = {value(v)}" for k, v in item.items()) + " }"
        if isinstance(item, list):
            return "[" + ", ".join(value(v) for v in item) + "]"
        return json.dumps(item)

    lines = [f"{key} = {value(item)}" for key, item in mapping.items() if key != "signals"]
    for signal_grid in mapping["signals"]:
        lines += ["[[signals]]", *(f"{k} = {value(v)}" for k, v in signal_grid.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


def _checkpoints(root: Path) -> list[Path]:
    return sorted(root.glob("sweeps/default/*/chunks-2/*.parquet"))


def test_resume_after_a_client_kill_evaluates_only_the_unfinished_chunks(tmp_path: Path) -> None:
    settings = workspace(tmp_path / "w")
    mapping = grid(large=False, chunk_size=2)  # 48 trials, 24 chunks
    config_file = _toml(mapping, tmp_path / "sweep.toml")
    env = {**os.environ, "CRYPTO_ANALYZER_DB_URL": settings.db_url,
           "CRYPTO_ANALYZER_ARTIFACTS": settings.artifacts}  # fmt: skip
    log = tmp_path / "child.stderr"
    with log.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "crypto_analyzer", "sweep", "--config", str(config_file),
             "--json"],
            env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    store_root = tmp_path / "w" / "artifacts"
    deadline = time.monotonic() + 120
    while len(_checkpoints(store_root)) < 3 and child.poll() is None:
        assert time.monotonic() < deadline, "no checkpoints appeared"
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    done = len(_checkpoints(store_root))
    assert child.returncode == -signal.SIGKILL, log.read_text()
    assert 3 <= done < 24
    killed = _the_sweep_run(settings.db_url)
    # The trials of every checkpointed chunk were appended before their checkpoint.
    assert count(settings, "SELECT COUNT(*) FROM trial_ledger WHERE run_instance_id = :r",
                 r=killed) >= 2 * done  # fmt: skip

    runner = CliRunner()
    outcome = runner.invoke(app, ["--db", settings.db_url, "sweep", "--resume", killed, "--json"],
                            env={"CRYPTO_ANALYZER_ARTIFACTS": settings.artifacts})  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    resumed = json.loads(outcome.stdout)
    assert resumed["chunks"] == {"evaluated": 24 - done, "resumed": done, "total": 24}
    assert resumed["resumed_from"] == killed and resumed["n_trials"] == 48
    assert count(settings, "SELECT COUNT(*) FROM trial_ledger WHERE run_instance_id = :r",
                 r=resumed["run_instance_id"]) == 48  # fmt: skip
    assert count(settings, "SELECT COUNT(*) FROM runs WHERE run_instance_id = :r AND status = "
                 "'interrupted'", r=killed) == 1  # fmt: skip

    fresh = run_sweep(settings, parse_sweep_config(mapping), actor="alice")
    assert fresh.chunks_evaluated == 24
    # Three executions of one sweep: many ledger rows, 48 trials (counting is by trial_key).
    assert count(settings, "SELECT COUNT(*) FROM trial_ledger") >= 96 + 2 * done
    assert count(settings, "SELECT COUNT(DISTINCT trial_key) FROM trial_ledger") == 48
    for name in IDENTICAL:
        assert resumed["artifacts"][name] == fresh.artifacts[name], name


def _the_sweep_run(db_url: str) -> str:
    engine = create_db_engine(db_url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(sa.text("SELECT run_instance_id FROM runs")).scalar_one())
    finally:
        engine.dispose()


def test_resume_refuses_a_run_that_is_not_a_sweep_and_both_or_neither_source(
    tmp_path: Path,
) -> None:
    settings = workspace(tmp_path / "w")
    runner = CliRunner()
    neither = runner.invoke(app, ["--db", settings.db_url, "sweep"])
    assert neither.exit_code == 2 and "--config" in neither.output
    missing = runner.invoke(app, ["--db", settings.db_url, "sweep", "--resume", "0000-none"])
    assert missing.exit_code == 1 and "no run matches" in missing.output
    bad = runner.invoke(
        app, ["--db", settings.db_url, "sweep", "--resume", "x" * 8, "--scheduler", "udp://h:1"]
    )
    assert bad.exit_code == 2 and "--scheduler" in bad.output
