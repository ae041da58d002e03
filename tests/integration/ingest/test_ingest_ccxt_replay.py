"""ccxt (Kraken, Coinbase) against the local replay server: paging, resume, faults, drift."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from replay import Fault, ReplayServer

from conftest import FAST, NOW_MS, START_MS, Sleeps
from crypto_analyzer.ingest.backfill import BackfillRequest, backfill
from crypto_analyzer.ingest.parsing import candle_rows_frame
from crypto_analyzer.ingest.providers import CcxtProvider, TransientProviderError
from crypto_analyzer.ingest.resilience import Resilience
from crypto_analyzer.ingest.validation import check_candles

HOUR = 3_600_000
CLOSED_BARS = (NOW_MS // HOUR * HOUR - START_MS) // HOUR  # bars fully closed at NOW


def _provider(name: str, server: ReplayServer, timeout_s: float = 5.0) -> CcxtProvider:
    return CcxtProvider(name, api_url=server.url, timeout_s=timeout_s, rate_limit=FAST)


def _rows(engine: sa.Engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


@pytest.fixture(params=["kraken", "coinbase"])
def exchange(request: pytest.FixtureRequest) -> str:
    return request.param


def test_backfill_pages_until_caught_up_and_excludes_the_open_candle(
    sqlite_engine: sa.Engine, replay_server: ReplayServer, resilience: Resilience, exchange: str
) -> None:
    provider = _provider(exchange, replay_server)
    request = BackfillRequest(exchange, ("BTC/USD", "ETH/USD"), "1h", START_MS, page_limit=100)
    result = backfill(sqlite_engine, request, provider, resilience=resilience)
    provider.close()
    assert result.status == "succeeded"
    counts = _rows(
        sqlite_engine,
        "SELECT instrument_id, COUNT(*), MIN(bar_open_ms), MAX(bar_open_ms) FROM bars "
        "GROUP BY instrument_id ORDER BY instrument_id",
    )
    last_closed = START_MS + (CLOSED_BARS - 1) * HOUR
    assert counts == [
        (f"{exchange}:BTC/USD", CLOSED_BARS, START_MS, last_closed),
        (f"{exchange}:ETH/USD", CLOSED_BARS, START_MS, last_closed),
    ]
    pages = replay_server.replay.count("/0/public/OHLC") + replay_server.replay.count(
        "/api/v3/brokerage/market/products/"
    )
    assert pages > 2 * 10, "more than ten pages per symbol: no silent page cap"
    assert _rows(sqlite_engine, "SELECT COUNT(*) FROM ingest_rejects") == [(0,)]
    assert result.counts["n_received"] == result.counts["n_accepted"] == 2 * CLOSED_BARS


def test_an_open_candle_on_the_wire_is_quarantined_not_stored(
    replay_server: ReplayServer,
) -> None:
    open_bar = NOW_MS // HOUR * HOUR
    provider = _provider("kraken", replay_server)
    page = provider.fetch_candles("BTC/USD", "1h", open_bar - HOUR, 10)  # venue sends both
    provider.close()
    assert [row[0] for row in page] == [open_bar - HOUR, open_bar]
    frame = candle_rows_frame(page, instrument_id="kraken:BTC/USD", freq="1h")
    checked = check_candles(frame, freq_ms=HOUR, now_ms=NOW_MS)
    assert list(checked.accepted["bar_open_ms"]) == [open_bar - HOUR]
    assert [r.reason for r in checked.rejects] == ["open_candle: bar not closed at fetch time"]


def test_rerun_resumes_after_the_last_stored_candle(
    sqlite_engine: sa.Engine, replay_server: ReplayServer, resilience: Resilience
) -> None:
    provider = _provider("kraken", replay_server)
    until = START_MS + 200 * HOUR
    first = BackfillRequest("kraken", ("BTC/USD",), "1h", START_MS, until_ms=until)
    backfill(sqlite_engine, first, provider, resilience=resilience)
    assert _rows(sqlite_engine, "SELECT COUNT(*) FROM bars") == [(200,)]
    requests_before = len(replay_server.replay.log)
    rerun = BackfillRequest("kraken", ("BTC/USD",), "1h", START_MS, page_limit=720)
    result = backfill(sqlite_engine, rerun, provider, resilience=resilience)
    provider.close()
    assert result.symbols["BTC/USD"]["from_ms"] == until
    since = json.loads("[" + replay_server.replay.log[requests_before].split("since=")[1] + "]")[0]
    assert since * 1000 >= until - HOUR  # ccxt asks one interval early; nothing before that
    assert _rows(sqlite_engine, "SELECT COUNT(*) FROM bars") == [(CLOSED_BARS,)]


def test_429_with_retry_after_is_honoured_and_500_is_retried(
    sqlite_engine: sa.Engine,
    replay_server: ReplayServer,
    resilience: Resilience,
    sleeps: Sleeps,
    exchange: str,
) -> None:
    prefix = "/0/public/OHLC" if exchange == "kraken" else "/api/v3/brokerage/market/products/"
    replay_server.replay.fault(
        prefix,
        Fault("status", 429, {"Retry-After": "7"}),
        Fault("status", 500),
        Fault("status", 503, {"Retry-After": "3"}),
    )
    provider = _provider(exchange, replay_server)
    request = BackfillRequest(exchange, ("BTC/USD",), "1h", START_MS, until_ms=START_MS + 50 * HOUR)
    result = backfill(sqlite_engine, request, provider, resilience=resilience)
    provider.close()
    assert result.status == "succeeded"
    assert sleeps[0] == 7.0  # Retry-After, exactly
    assert 1.0 <= sleeps[1] < 1.25  # exponential backoff (attempt 2: 0.5·2) plus jitter < 0.25
    assert sleeps[2] == 3.0
    assert _rows(sqlite_engine, "SELECT COUNT(*) FROM bars") == [(50,)]


def test_slow_and_truncated_answers_are_retried(
    sqlite_engine: sa.Engine, replay_server: ReplayServer, resilience: Resilience
) -> None:
    replay_server.replay.fault(
        "/0/public/OHLC", Fault("slow", delay_s=1.5), Fault("truncate"), Fault("truncate")
    )
    provider = _provider("kraken", replay_server, timeout_s=0.4)
    request = BackfillRequest("kraken", ("ETH/USD",), "1h", START_MS, until_ms=START_MS + 30 * HOUR)
    result = backfill(sqlite_engine, request, provider, resilience=resilience)
    provider.close()
    assert result.status == "succeeded"
    assert replay_server.replay.count("/0/public/OHLC") == 4  # 3 failures, then the good answer
    assert _rows(sqlite_engine, "SELECT COUNT(*) FROM bars") == [(30,)]


def test_a_truncated_body_is_an_error_not_an_empty_page(replay_server: ReplayServer) -> None:
    replay_server.replay.fault("/0/public/OHLC", Fault("truncate"))
    provider = _provider("kraken", replay_server)
    with pytest.raises(TransientProviderError, match="unreadable response"):
        provider.fetch_candles("BTC/USD", "1h", START_MS, 10)
    provider.close()


def test_schema_drift_in_a_page_is_quarantined_and_the_batch_continues(
    sqlite_engine: sa.Engine, replay_server: ReplayServer, resilience: Resilience
) -> None:
    good = [START_MS // 1000 + i * 3600 for i in range(4)]
    page = {
        "error": [],
        "result": {
            "XXBTZUSD": [
                [good[0], "100.0", "101.0", "99.0", "100.5", "100.2", "12.5", 3],
                [good[1], "100.5", "99.0", "101.0", "100.0", "100.2", "2.0", 1],  # high < low
                [good[2], "n/a", "101.0", "99.0", "100.0", "100.2", "2.0", 1],  # not a number
                [good[3], "100.0", "101.0", "99.0", "100.5", "100.2", "-3.0", 1],  # negative vol
            ],
            "last": good[3],
        },
    }
    replay_server.replay.fault("/0/public/OHLC", Fault("body", body=json.dumps(page).encode()))
    provider = _provider("kraken", replay_server)
    request = BackfillRequest("kraken", ("BTC/USD",), "1h", START_MS, until_ms=START_MS + 8 * HOUR)
    result = backfill(sqlite_engine, request, provider, resilience=resilience)
    provider.close()
    reasons = sorted(
        row[0].split(":")[0] for row in _rows(sqlite_engine, "SELECT reason FROM ingest_rejects")
    )
    assert reasons == ["high_below_low", "negative_volume", "schema_drift"]
    raw = _rows(sqlite_engine, "SELECT raw_payload FROM ingest_rejects WHERE reason LIKE 'high%'")
    assert json.loads(raw[0][0])[1:4] == [100.5, 99.0, 101.0]
    assert result.counts["n_received"] == result.counts["n_accepted"] + 3
    # bars 1-3 stay quarantined (a gap), the rest of the range is stored
    assert _rows(sqlite_engine, "SELECT bar_open_ms FROM bars") == [
        (START_MS + i * HOUR,) for i in (0, 4, 5, 6, 7)
    ]
