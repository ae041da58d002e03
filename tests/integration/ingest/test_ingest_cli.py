"""The ingest / providers command groups through Typer's runner."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from replay import Fault, ReplayServer
from typer.testing import CliRunner

from conftest import cli_root, db_url, rows


def _invoke(*args: str) -> object:
    return CliRunner().invoke(cli_root(), list(args))


def test_backfill_command_reports_counts_and_progress_goes_to_stderr(
    sqlite_engine: sa.Engine, replay_server: ReplayServer
) -> None:
    args = ["ingest", "backfill", "--exchange", "kraken", "--symbols", "BTC/USD,ETH/USD",
            "--freq", "1h", "--since", "2024-02-25", "--api-url", f"kraken={replay_server.url}",
            "--max-rps", "1000", "--db", db_url(sqlite_engine)]  # fmt: skip
    result = _invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "succeeded" and summary["n_accepted"] == 2 * (
        5 * 24 + 12
    )  # Feb 25-29 + half of Mar 1
    again = _invoke(*args)
    assert again.exit_code == 0, again.output
    assert "0 accepted, 0 rejected of 0 received" in again.stdout  # resumed: nothing left to fetch


def test_backfill_usage_errors_exit_2_with_a_hint(sqlite_engine: sa.Engine) -> None:
    base = ["ingest", "backfill", "--db", db_url(sqlite_engine), "--since", "2024-01-01"]
    bad_symbol = _invoke(*base, "--symbols", "BTCUSD")
    assert bad_symbol.exit_code == 2 and "not unified BASE/QUOTE" in bad_symbol.output
    bad_exchange = _invoke(*base, "--symbols", "BTC/USD", "--exchange", "nowhere")
    assert bad_exchange.exit_code == 2 and "not a ccxt exchange id" in bad_exchange.output
    bad_freq = _invoke(*base, "--symbols", "BTC/USD", "--freq", "7m")
    assert bad_freq.exit_code == 2 and "frequency '7m' is not supported" in bad_freq.output
    bad_since = _invoke(*base[:-2], "--since", "last week", "--symbols", "BTC/USD")
    assert bad_since.exit_code == 2 and "is not a date or ISO-8601 time" in bad_since.output
    bad_url = _invoke(*base, "--symbols", "BTC/USD", "--api-url", "kraken")
    assert bad_url.exit_code == 2 and "is not NAME=URL" in bad_url.output


def test_an_exchange_that_keeps_failing_exits_1_and_marks_the_run_failed(
    sqlite_engine: sa.Engine, replay_server: ReplayServer
) -> None:
    replay_server.replay.fault("/0/public/OHLC", *[Fault("status", 404)])
    result = _invoke("ingest", "backfill", "--exchange", "kraken", "--symbols", "BTC/USD",
                     "--since", "2024-02-28", "--api-url", f"kraken={replay_server.url}",
                     "--db", db_url(sqlite_engine))  # fmt: skip
    assert result.exit_code == 1
    assert "kraken: HTTP 404" in result.output
    assert rows(sqlite_engine, "SELECT status FROM ingest_runs") == [("failed",)]


def test_synthetic_command_with_a_planted_signal_and_snapshots(sqlite_engine: sa.Engine) -> None:
    result = _invoke("ingest", "synthetic", "--assets", "4", "--days", "2", "--seed", "3",
                     "--planted-ic", "0.1", "--snapshots-every", "6",
                     "--db", db_url(sqlite_engine), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n_accepted"] == 4 * 48 + 4 * 8 and summary["n_rejected"] == 0
    assert rows(sqlite_engine, "SELECT COUNT(*) FROM price_snapshots") == [(32,)]
    refused = _invoke("ingest", "synthetic", "--planted-ic", "1.5", "--db", db_url(sqlite_engine))
    assert refused.exit_code == 2 and "planted_ic must lie in [-0.9, 0.9]" in refused.output


def test_providers_status_on_a_fresh_workspace(sqlite_engine: sa.Engine) -> None:
    result = _invoke("providers", "status", "--db", db_url(sqlite_engine))
    assert result.exit_code == 0, result.output
    assert "no provider has been called yet" in result.stdout


@pytest.mark.parametrize("group", ["ingest", "materialize", "providers"])
def test_help_is_available(group: str) -> None:
    result = _invoke(group, "--help")
    assert result.exit_code == 0, result.output
