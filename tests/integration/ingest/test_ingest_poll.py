"""``ingest poll``: spot + DEX snapshots + universe refresh per cycle; graceful SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import sqlalchemy as sa
from replay import Fault, ReplayServer
from typer.testing import CliRunner

from conftest import cli_root, db_url, rows
from crypto_analyzer.ingest.universe import latest_allowlist

ELIGIBLE = {
    "dex:ethereum:0x11b815efB8f581194ae79006d24E0d814B7697F6",  # WETH/USDC
    "dex:base:0xcDAC0d6c6C59727a65F871236188350531885C43",  # WETH/USDC on Base
    "dex:ethereum:0xA43fe16908251ee70EF74718545e4FE6C5cCEc9f",  # PEPE/WETH
    "dex:solana:58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2",  # SOL/USDC
    "dex:solana:Bzc9NZfMqkXR6fz1DBph7BDf9BroyEf6pnzESP7v5iiw",  # BONK/SOL
}


def _args(server: ReplayServer, engine: sa.Engine, *extra: str) -> list[str]:
    urls = [f"--api-url={name}={server.url}" for name in ("coinbase", "kraken", "dexscreener")]
    return ["ingest", "poll", "--interval", "0", "--exchanges", "coinbase,kraken",
            "--symbols", "BTC/USD,ETH/USD", "--dex-query", "WETH", "--dex-query", "SOL",
            "--max-rps", "1000", *urls, "--db", db_url(engine), *extra]  # fmt: skip


def test_two_cycles_store_snapshots_and_a_screened_universe(
    sqlite_engine: sa.Engine, replay_server: ReplayServer
) -> None:
    result = CliRunner().invoke(
        cli_root(), _args(replay_server, sqlite_engine, "--max-cycles", "2", "--json")
    )
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert [r["cycle"] for r in reports] == [1, 2]
    assert reports[0]["served_by"]["spot:BTC/USD,ETH/USD"] == "coinbase"
    assert reports[0]["universe"] == {"added": 5}
    assert reports[1]["universe"] == {"retained": 5}
    assert rows(sqlite_engine, "SELECT kind, status, COUNT(*) FROM ingest_runs GROUP BY 1, 2") == [
        ("poll", "succeeded", 2)
    ]
    allow = latest_allowlist(sqlite_engine)
    assert set(allow["instrument_id"]) == ELIGIBLE
    assert list(allow["rank"]) == [1, 2, 3, 4, 5]
    assert allow["instrument_id"].iloc[0].endswith("0x11b815efB8f581194ae79006d24E0d814B7697F6")
    spot = rows(sqlite_engine, "SELECT instrument_id, provider FROM price_snapshots "
                "WHERE instrument_id LIKE 'coinbase:%' ORDER BY 1")  # fmt: skip
    assert spot == [("coinbase:BTC/USD", "coinbase"), ("coinbase:ETH/USD", "coinbase")]
    dex = rows(sqlite_engine, "SELECT COUNT(DISTINCT instrument_id) FROM price_snapshots "
               "WHERE instrument_id LIKE 'dex:%'")  # fmt: skip
    assert dex == [(7,)]  # every pair the two searches saw is stored as an observation
    churn = rows(sqlite_engine, "SELECT action, reason FROM universe_churn ORDER BY snapshot_id")
    assert [action for action, _ in churn] == ["added"] * 5 + ["retained"] * 5


def test_fallback_fills_in_for_a_failing_exchange(
    sqlite_engine: sa.Engine, replay_server: ReplayServer
) -> None:
    replay_server.replay.fault(
        "/api/v3/brokerage/market/products?product_ids", *[Fault("status", 502)] * 4
    )
    result = CliRunner().invoke(
        cli_root(), _args(replay_server, sqlite_engine, "--max-cycles", "1", "--no-dex", "--json")
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["served_by"] == {"spot:BTC/USD,ETH/USD": "kraken"}
    assert rows(sqlite_engine, "SELECT DISTINCT provider FROM price_snapshots") == [("kraken",)]


def test_sigterm_finishes_the_current_cycle_then_exits_cleanly(
    sqlite_engine: sa.Engine, replay_server: ReplayServer
) -> None:
    replay_server.replay.fault("/latest/dex/search", Fault("slow", delay_s=1.0))
    code = "from crypto_analyzer.cli.ingest import app; app()"
    args = _args(replay_server, sqlite_engine, "--interval", "30", "--timeout", "5")[1:]
    child = subprocess.Popen([sys.executable, "-c", code, *args], env=os.environ.copy(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    while replay_server.replay.count("/latest/dex/search") == 0:  # the cycle is in flight
        assert child.poll() is None, child.communicate()
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err.decode()
    assert "SIGTERM: finishing the current cycle" in err.decode()
    assert out.decode().count("cycle ") == 1
    assert rows(sqlite_engine, "SELECT status, COUNT(*) FROM ingest_runs GROUP BY 1") == [
        ("succeeded", 1)
    ]
    assert rows(sqlite_engine, "SELECT COUNT(*) FROM universe_snapshots") == [(1,)]
