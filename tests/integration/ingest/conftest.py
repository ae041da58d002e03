"""Fixtures for ingest integration tests: a pinned clock and the local replay server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import typer
from replay import Market, Replay, ReplayServer

from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.ingest.providers.base import RateLimit
from crypto_analyzer.ingest.resilience import (
    BreakerConfig,
    DatabaseHealthStore,
    Resilience,
    RetryPolicy,
)

NOW = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
START_MS = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
FAST = RateLimit(per_second=1000.0, burst=1000)


@pytest.fixture
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """core.clock.now() returns NOW, the instant the replay server treats as the present."""
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", NOW.isoformat())
    reset_settings_cache()
    return NOW


@pytest.fixture
def replay_server(pinned_clock: datetime) -> Iterator[ReplayServer]:
    with ReplayServer(Replay(Market(START_MS, NOW_MS))) as server:
        yield server


class Sleeps(list[float]):
    """Records requested sleeps instead of sleeping (retry waits, rate-limit waits)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def resilience(sqlite_engine: sa.Engine, sleeps: Sleeps) -> Resilience:
    """Persisted breakers, quick retries, and sleeps recorded instead of taken."""
    return Resilience(
        store=DatabaseHealthStore(sqlite_engine),
        retry=RetryPolicy(attempts=4, initial_s=0.5, max_s=8.0, jitter_s=0.25),
        breaker=BreakerConfig(failure_threshold=3),
        sleep=sleeps,
    )


def cli_root() -> typer.Typer:
    """The sub-apps joined under one root, as ``cli/app.py`` registers them."""
    from crypto_analyzer.cli.ingest import app as ingest_app
    from crypto_analyzer.cli.materialize import app as materialize_app
    from crypto_analyzer.cli.providers import app as providers_app

    root = typer.Typer()
    for sub in (ingest_app, materialize_app, providers_app):
        root.add_typer(sub)
    return root


def db_url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def rows(engine: sa.Engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


def bulk_bars(ids: list[str], n: int, *, shift: float = 0.0, vwap: bool = True) -> pd.DataFrame:
    """``n`` valid hourly bars split over ``ids`` (enough rows for the SQLite bulk path)."""
    per = n // len(ids)
    close = 100.0 + np.arange(per, dtype=float) % 7 + shift
    frame = pd.DataFrame(
        {
            "instrument_id": np.repeat(ids, per),
            "freq": "1h",
            "bar_open_ms": np.tile(np.arange(per, dtype=np.int64) * 3_600_000, len(ids)),
            "open": np.tile(close, len(ids)),
            "high": np.tile(close + 1, len(ids)),
            "low": np.tile(close - 1, len(ids)),
            "close": np.tile(close, len(ids)),
            "volume": np.tile(np.arange(per, dtype=float), len(ids)),
        }
    )
    if vwap:
        frame["vwap"] = np.tile(np.where(np.arange(per) % 3 == 0, np.nan, close), len(ids))
    return frame
