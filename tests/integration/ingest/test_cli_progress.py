"""Progress bars on a terminal; nothing of them when piped or with --json.

The commands run as real processes: on a pseudo-terminal (``pty``) for the terminal case, with
pipes for the piped case, because the choice depends on what stderr actually is.
"""

from __future__ import annotations

import errno
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from replay import ReplayServer

from conftest import db_url
from crypto_analyzer.core.settings import load_settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.report.run import REPORT_STAGES
from crypto_analyzer.pipeline.workspace import init_workspace

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00Z


def _env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "CI")}
    env.update({"COLUMNS": "140", "LINES": "40", "TERM": "xterm-256color"})
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return env


def on_terminal(*args: str) -> tuple[int, str]:
    """Run ``crypto-analyzer ARGS`` with stdin, stdout and stderr on a pseudo-terminal."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "crypto_analyzer", *args],
        stdin=follower, stdout=follower, stderr=follower, env=_env(), close_fds=True,
    )  # fmt: skip
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError as exc:  # EIO: the terminal closed with the process
            if exc.errno != errno.EIO:
                raise
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    code = process.wait(timeout=300)
    return code, b"".join(chunks).decode("utf-8", "replace")


def piped(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crypto_analyzer", *args],
        capture_output=True, text=True, env=_env(), timeout=300,
    )  # fmt: skip


def _counted(text: str, label: str) -> list[tuple[int, int]]:
    """The ``done/total`` counts drawn beside ``label`` (ANSI removed)."""
    plain = ANSI.sub("", text)
    return [
        (int(done), int(total))
        for done, total in re.findall(re.escape(label) + r"[^\r\n]*?(\d+)/(\d+)", plain)
    ]


@pytest.fixture
def market_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    init_workspace(load_settings(db_url=url), WorkspaceMode.SANDBOX)
    engine = create_db_engine(url)
    ingest_synthetic(engine, SyntheticMarketConfig(assets=6, days=30, seed=2))
    engine.dispose()
    return url


def test_materialize_and_factor_fit_draw_counted_bars_on_a_terminal(market_db: str) -> None:
    code, text = on_terminal("--db", market_db, "materialize", "bars", "--freq", "1D", "--full")
    assert code == 0, text
    counts = _counted(text, "materialize 1D bars (instruments)")
    assert counts and counts[-1][0] == counts[-1][1] > 0  # finished: every instrument counted
    assert "eta" in ANSI.sub("", text) and ANSI.search(text)
    code, text = on_terminal("--db", market_db, "materialize", "factors", "--window", "24")
    assert code == 0, text
    assert _counted(text, "factor fit ")[-1] == (2, 2)  # id and bars in one read, then the fit
    assert "factor fit: fit and store" in ANSI.sub("", text)  # the running stage is named
    assert "stored factor run" in text


def test_piped_and_json_runs_carry_no_progress(market_db: str) -> None:
    result = piped("--db", market_db, "materialize", "bars", "--freq", "1D", "--full")
    assert result.returncode == 0, result.stderr
    assert "materialized" in result.stdout
    assert not ANSI.search(result.stderr + result.stdout)
    assert "instruments" not in result.stderr and "━" not in result.stderr
    result = piped("--db", market_db, "materialize", "factors", "--window", "24", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["window"] == 24
    assert "factor fit" not in result.stderr and not ANSI.search(result.stderr)
    # --json on a terminal: stdout and stderr share the terminal, and it holds only the JSON.
    code, text = on_terminal("--db", market_db, "materialize", "factors", "--window", "24",
                             "--json")  # fmt: skip
    assert code == 0, text
    assert not ANSI.search(text) and "factor fit" not in text
    assert json.loads(text.strip())["reused"] is True


REPORT_TOML = (
    'signals = ["momentum_24h", "low_vol"]\nhorizons = [1, 4]\nmin_assets = 5\n'
    "factor_window = 120\n[splits]\ntest_size = 240\nmin_train_size = 480\n"
    "[procedures]\nbootstrap_reps = 200\npbo_blocks = 8\n"
)


def test_report_counts_its_stages_on_a_terminal_and_stays_quiet_piped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    init_workspace(load_settings(db_url=url), WorkspaceMode.SANDBOX)
    engine = create_db_engine(url)
    ingest_synthetic(engine, SyntheticMarketConfig(assets=12, days=60, seed=5))
    engine.dispose()
    config = tmp_path / "report.toml"
    config.write_text(REPORT_TOML)
    code, text = on_terminal("--db", url, "report", "--config", str(config))
    assert code == 0, text
    total = len(REPORT_STAGES)
    assert _counted(text, "report ")[-1] == (total, total)
    plain = ANSI.sub("", text)
    assert "report: walk-forward IC" in plain and "report: family statistics" in plain
    assert "report  file://" in plain  # the usual summary follows the bars
    result = piped("--db", url, "report", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["run_instance_id"]
    assert "report:" not in result.stderr and not ANSI.search(result.stderr)


def _bars(n: int, seed: int) -> pd.DataFrame:
    close = 100.0 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0.0, 0.01, n)))
    return pd.DataFrame({"timestamp": T0 + HOUR * np.arange(n, dtype=np.int64), "open": close,
                         "high": close * 1.01, "low": close * 0.99, "close": close,
                         "volume": 5.0})  # fmt: skip


def test_import_of_many_files_counts_files(market_db: str, tmp_path: Path) -> None:
    folder = tmp_path / "prices"
    folder.mkdir()
    for seed, name in enumerate(("BTC-USD", "ETH-USD", "SOL-USD")):
        _bars(48, seed).to_csv(folder / f"{name}.csv", index=False)
    args = ("--db", market_db, "ingest", "import", str(folder), "--venue", "x", "--freq", "1h",
            "--symbol-from", "filename")  # fmt: skip
    code, text = on_terminal(*args)
    assert code == 0, text
    assert _counted(text, "checking files")[-1] == (3, 3)
    assert _counted(text, "importing")[-1] == (3, 3)
    result = piped(*args[:-2], "--symbol-from", "filename", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["files"]
    assert "checking files" not in result.stderr and not ANSI.search(result.stderr)


def test_backfill_draws_one_bar_per_symbol(
    sqlite_engine: sa.Engine, replay_server: ReplayServer
) -> None:
    args = ("--db", db_url(sqlite_engine), "ingest", "backfill", "--exchange", "kraken",
            "--symbols", "BTC/USD,ETH/USD", "--freq", "1h", "--since", "2024-02-25",
            "--api-url", f"kraken={replay_server.url}", "--max-rps", "1000")  # fmt: skip
    code, text = on_terminal(*args)
    assert code == 0, text
    for symbol in ("BTC/USD", "ETH/USD"):
        done, total = _counted(text, symbol)[-1]
        assert done == total == 5 * 24 + 12  # Feb 25-29 + half of Mar 1, in candles
    assert "accepted" in text
