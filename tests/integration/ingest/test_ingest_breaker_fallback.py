"""Circuit breaker (persisted), fallback chain and last-known-good, over the replay server."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from replay import Fault, ReplayServer
from typer.testing import CliRunner

from conftest import FAST, NOW, Sleeps
from crypto_analyzer.cli.providers import app as providers_app
from crypto_analyzer.ingest.poll import PollConfig, PollSources, run_cycle
from crypto_analyzer.ingest.providers import CcxtProvider, DataKind, NoProviderAvailable
from crypto_analyzer.ingest.resilience import (
    BreakerConfig,
    DatabaseHealthStore,
    FallbackChain,
    Resilience,
    RetryPolicy,
)

TICKERS = "/api/v3/brokerage/market/products?product_ids"
KRAKEN_TICKERS = "/0/public/Ticker"


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def _chain(
    engine: sa.Engine, server: ReplayServer, clock: FakeClock, sleeps: Sleeps
) -> FallbackChain:
    resilience = Resilience(
        store=DatabaseHealthStore(engine),
        retry=RetryPolicy(attempts=2, initial_s=0.1, jitter_s=0.0),
        breaker=BreakerConfig(failure_threshold=2, cooldown=timedelta(seconds=60)),
        clock=clock,
        sleep=sleeps,
    )
    members = [
        resilience.guard(CcxtProvider(name, api_url=server.url, rate_limit=FAST))
        for name in ("coinbase", "kraken")
    ]
    return FallbackChain(DataKind.TICKERS, members, clock=clock)


def _tickers(chain: FallbackChain) -> str:
    return chain.fetch("spot", lambda provider: provider.fetch_tickers(["BTC/USD"])).provider


def _status(engine: sa.Engine) -> dict[str, str]:
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(providers_app, ["status", "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    return {
        f"{r['provider']}/{r['data_kind']}": r["breaker_state"] for r in json.loads(result.stdout)
    }


def test_breaker_opens_half_opens_after_cooldown_and_closes_while_fallback_serves(
    sqlite_engine: sa.Engine, replay_server: ReplayServer, clock: FakeClock, sleeps: Sleeps
) -> None:
    chain = _chain(sqlite_engine, replay_server, clock, sleeps)
    replay_server.replay.fault(TICKERS, *[Fault("status", 500)] * 4)
    assert _tickers(chain) == "kraken"  # coinbase failed once (after its retry): still closed
    assert _status(sqlite_engine) == {"coinbase/ticker": "closed", "kraken/ticker": "closed"}
    assert _tickers(chain) == "kraken"  # second failure: open
    assert _status(sqlite_engine)["coinbase/ticker"] == "open"
    asked = replay_server.replay.count(TICKERS)
    clock.advance(59)
    assert _tickers(chain) == "kraken"  # open: coinbase is not even asked
    assert replay_server.replay.count(TICKERS) == asked
    clock.advance(2)  # cooldown over: one trial call goes through and succeeds
    assert _tickers(chain) == "coinbase"
    assert _status(sqlite_engine) == {"coinbase/ticker": "closed", "kraken/ticker": "closed"}
    for member in chain.members:
        member.close()


def test_a_failed_trial_reopens_and_state_survives_a_new_process(
    sqlite_engine: sa.Engine, replay_server: ReplayServer, clock: FakeClock, sleeps: Sleeps
) -> None:
    first = _chain(sqlite_engine, replay_server, clock, sleeps)
    replay_server.replay.fault(TICKERS, *[Fault("status", 503)] * 6)
    _tickers(first)
    _tickers(first)
    clock.advance(61)
    assert _tickers(first) == "kraken"  # half-open trial failed
    assert _status(sqlite_engine)["coinbase/ticker"] == "open"
    second = _chain(sqlite_engine, replay_server, clock, sleeps)  # fresh objects, same database
    asked = replay_server.replay.count(TICKERS)
    assert _tickers(second) == "kraken"
    assert replay_server.replay.count(TICKERS) == asked  # still open: cooldown restarted
    for member in (*first.members, *second.members):
        member.close()


def test_last_known_good_is_served_degraded_and_never_stored(
    sqlite_engine: sa.Engine, replay_server: ReplayServer, clock: FakeClock, sleeps: Sleeps
) -> None:
    chain = _chain(sqlite_engine, replay_server, clock, sleeps)
    sources = PollSources(spot=chain, dex=None)
    config = PollConfig(symbols=("BTC/USD",), interval_s=0)
    first = run_cycle(sqlite_engine, sources, config, 1)
    assert first.counts["n_accepted"] == 1 and not first.degraded
    replay_server.replay.fault(TICKERS, *[Fault("status", 500)] * 2)
    replay_server.replay.fault(KRAKEN_TICKERS, *[Fault("status", 500)] * 2)
    clock.advance(1)
    second = run_cycle(sqlite_engine, sources, config, 2)
    assert second.degraded == ["spot:BTC/USD"]
    assert second.counts == {"n_accepted": 0, "n_received": 0, "n_rejected": 0}
    served = chain.fetch("spot:BTC/USD", lambda provider: provider.fetch_tickers(["BTC/USD"]))
    assert not served.degraded  # providers answer again
    with sqlite_engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT COUNT(*) FROM price_snapshots").scalar_one()
    assert stored == 1
    replay_server.replay.fault(TICKERS, *[Fault("status", 500)] * 2)
    replay_server.replay.fault(KRAKEN_TICKERS, *[Fault("status", 500)] * 2)
    with pytest.raises(NoProviderAvailable, match="no provider delivered ticker for other"):
        chain.fetch("other", lambda provider: provider.fetch_tickers(["ETH/USD"]))
    sources.close()
