"""Helpers for sweep integration tests: a small governed workspace and sweep grids on it.

The market is deliberately small (10 assets, 30 days of hourly bars, 3 walk-forward folds) so a
trial costs tens of milliseconds and a sweep of more than 500 trials stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from crypto_analyzer.core.settings import Settings, load_settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.workspace import init_workspace

__all__ = ["MARKET", "REPORT", "count", "grid", "workspace"]

MARKET = SyntheticMarketConfig(assets=10, days=30, seed=5, planted_ic=0.06)
REPORT: dict[str, Any] = {
    "min_assets": 5,
    "factor_window": 120,
    "splits": {"test_size": 120, "min_train_size": 240, "embargo": 4},
    "procedures": {"bootstrap_reps": 200, "pbo_blocks": 8},
    "portfolio": {"k": 2},
}


def grid(*, large: bool, chunk_size: int) -> dict[str, Any]:
    """A sweep mapping: ``large`` → 520 trials (52 grid points × 2 horizons × 5 cost scenarios),
    otherwise 48 trials."""
    if large:
        signals = [
            {"name": "momentum_24h", "params": {"lookback": {"first": 4, "last": 96, "step": 4}}},
            {"name": "short_reversal", "params": {"lookback": {"first": 1, "last": 12}}},
            {"name": "low_vol", "params": {"lookback": [24, 36, 48, 72, 96, 120, 144, 168]}},
            {"name": "volume_shock", "params": {"window": [6, 12, 18, 24, 30, 36, 42, 48]}},
        ]
        costs = {f"fee{fee}": {"fee_bps": float(fee)} for fee in (1, 2, 5, 10, 20)}
    else:
        signals = [
            {"name": "momentum_24h", "params": {"lookback": [12, 24, 48]}},
            {"name": "volume_shock", "params": {"window": [12, 24, 36]}},
        ]
        costs = {"base": {}, "stressed": {"fee_bps": 25.0}}
    return {
        "name": "test sweep",
        "horizons": [1, 4],
        "signals": signals,
        "universes": {"all": "all"} if large else {"all": "all", "first5": _first(5)},
        "costs": costs,
        "report": REPORT,
        "chunk_size": chunk_size,
    }


def _first(n: int) -> list[str]:
    return [f"synthetic:ALT{i:03d}/USD" for i in range(1, n + 1)]


def workspace(directory: Path, *, db_url: str | None = None) -> Settings:
    """A governed workspace with the market. On SQLite ``init`` puts the service key next to the
    database; another backend needs ``CRYPTO_ANALYZER_SERVICE_KEY_FILE`` set by the test."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = load_settings(
        db_url=db_url or f"sqlite:///{directory / 'w.sqlite'}",
        artifacts=f"file://{directory / 'artifacts'}",
    )
    init_workspace(settings)
    engine = create_db_engine(settings.db_url)
    try:
        ingest_synthetic(engine, MARKET)
    finally:
        engine.dispose()
    return settings


def count(settings: Settings, sql: str, **params: Any) -> int:
    engine = create_db_engine(settings.db_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text(sql), params).scalar_one())
    finally:
        engine.dispose()
