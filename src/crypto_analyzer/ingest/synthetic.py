"""Seeded synthetic crypto market: the embedded default for the demo and the tests.

Why synthetic: a research platform needs data whose truth is known to show that its statistics
find real effects and reject noise. The generator gives a market that looks like crypto where it
matters for validation:

* two factors, BTC and ETH (correlated), that every other asset loads on with its own betas, so
  residual (factor-neutral) returns differ from raw ones;
* volatility clustering (GARCH(1,1) variance recursions per series) and fat tails (Student-t
  shocks scaled to unit variance);
* volume and dollar liquidity that rise with absolute returns, so cost and capacity models see
  realistic participation; :func:`synthetic_liquidity` adds a pool-depth (USD) series per asset;
* optionally (``planted_ic``) a cross-sectional signal with a known rank IC against the next bar's
  return: the z-scored trailing log-volume surprise defined exactly in
  :mod:`crypto_analyzer.ingest.synthetic_signal`, whose :func:`planted_feature` recomputes it from
  the stored bars.

Everything is drawn from one ``numpy.random.Generator`` seeded with ``derive_seed`` over the config,
so the same config gives the same bars, byte for byte (``planted_ic=None`` is left out of the seed
material, so configs that predate the field keep their exact data). The bars enter the database
through the same validation and provenance writer as any provider's data; the time checks
(future, open candle) are off because the time axis is simulated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.core.seeding import derive_seed, make_rng
from crypto_analyzer.db.provenance import ProvenanceWriter
from crypto_analyzer.ingest.frequencies import FREQ_MS
from crypto_analyzer.ingest.synthetic_signal import plant_log_volume, rho_for_rank_ic
from crypto_analyzer.ingest.validation import check_candles

__all__ = [
    "FREQ_MS",
    "MAX_SYNTHETIC_ASSETS",
    "MAX_SYNTHETIC_CELLS",
    "MAX_SYNTHETIC_DAYS",
    "SYNTHETIC_SEED_VERSION",
    "SyntheticMarketConfig",
    "generate_market",
    "ingest_synthetic",
    "synthetic_liquidity",
]

_VENUE = "synthetic"

SYNTHETIC_SEED_VERSION = 1
"""Seed scheme of the synthetic market, pinned. A synthetic market is *data*: its bars are a
function of its config alone, and its dataset id must not move when the run-level seed scheme
(``core.versions.SEED_VERSION``, which versions how statistics consume their streams) is bumped."""

MAX_SYNTHETIC_ASSETS = 2_000
MAX_SYNTHETIC_DAYS = 3_660
MAX_SYNTHETIC_CELLS = 10_000_000
"""Assets × bars: the market is generated in memory (several float arrays of this size) before
it is written, so it is bounded; the demo's default is 438,000 (50 assets, a year of hours)."""


@dataclass(frozen=True, slots=True)
class SyntheticMarketConfig:
    """Shape of the synthetic market. Every field enters the seed, so any change is new data."""

    assets: int = 50
    days: int = 365
    freq: str = "1h"
    seed: int = 7
    start: str = "2024-01-01T00:00:00Z"
    student_t_dof: float = 4.0
    planted_ic: float | None = None
    """Expected rank IC of the planted feature with the next bar's return; None plants nothing."""

    def __post_init__(self) -> None:
        if self.assets < 3:
            raise ValidationError(f"assets must be >= 3 (BTC, ETH and one more), got {self.assets}")
        if self.assets > MAX_SYNTHETIC_ASSETS:
            raise ValidationError(
                f"assets must be <= {MAX_SYNTHETIC_ASSETS:,}, got {self.assets}",
                "generate fewer assets",
            )
        if not 1 <= self.days <= MAX_SYNTHETIC_DAYS:
            raise ValidationError(f"days must lie in [1, {MAX_SYNTHETIC_DAYS:,}], got {self.days}")
        if self.freq not in FREQ_MS:
            raise ValidationError(f"freq {self.freq!r} is not one of {', '.join(FREQ_MS)}")
        if self.assets * self.n_bars > MAX_SYNTHETIC_CELLS:
            raise ValidationError(
                f"assets × bars = {self.assets:,} × {self.n_bars:,} = "
                f"{self.assets * self.n_bars:,}; the limit is {MAX_SYNTHETIC_CELLS:,}",
                "generate fewer assets or days, or a coarser --freq",
            )
        if self.student_t_dof <= 2:
            raise ValidationError(
                f"student_t_dof must be > 2 (finite variance), got {self.student_t_dof}"
            )
        if self.planted_ic is not None and not -0.9 <= self.planted_ic <= 0.9:
            raise ValidationError(f"planted_ic must lie in [-0.9, 0.9], got {self.planted_ic}")

    @property
    def n_bars(self) -> int:
        return self.days * 86_400_000 // FREQ_MS[self.freq]

    @property
    def start_ms(self) -> int:
        moment = datetime.fromisoformat(self.start).astimezone(UTC)
        return int(moment.timestamp()) * 1000

    def seed_material(self) -> dict[str, Any]:
        """The config as hashed into the seed (unset optional fields omitted)."""
        material = asdict(self)
        if material["planted_ic"] is None:
            del material["planted_ic"]
        return material


def _symbols(n: int) -> list[str]:
    return ["BTC", "ETH", *[f"ALT{index:03d}" for index in range(1, n - 1)]]


def _garch_paths(rng: np.random.Generator, shocks: np.ndarray, base_vol: np.ndarray) -> np.ndarray:
    """GARCH(1,1) returns for each column of unit-variance ``shocks`` (time loop, vector over
    assets)."""
    alpha, beta = 0.08, 0.87  # alpha + beta < 1: stationary yet persistent volatility
    target = base_vol**2
    omega = target * (1 - alpha - beta)  # unconditional variance equals the target
    variance = target * np.exp(rng.normal(0.0, 0.2, size=target.shape))
    out = np.empty_like(shocks)
    for t in range(shocks.shape[0]):
        out[t] = np.sqrt(variance) * shocks[t]
        variance = omega + alpha * out[t] ** 2 + beta * variance
    return out


def generate_market(config: SyntheticMarketConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (instruments, bars) frames in the provenance writer's column layout."""
    rng = make_rng(
        derive_seed(
            sha256_json(config.seed_material()), "synthetic_market", version=SYNTHETIC_SEED_VERSION
        )
    )
    n, t = config.assets, config.n_bars
    bars_per_day = 86_400_000 // FREQ_MS[config.freq]
    scale = np.sqrt(1.0 / bars_per_day)
    dof = config.student_t_dof
    shocks = rng.standard_t(dof, size=(t, n)) / np.sqrt(dof / (dof - 2))

    daily_vol = np.concatenate([[0.035, 0.045], rng.uniform(0.04, 0.09, size=n - 2)])
    raw = _garch_paths(rng, shocks, daily_vol * scale)
    btc = raw[:, 0]
    eth = 0.8 * btc * (daily_vol[1] / daily_vol[0]) + 0.6 * raw[:, 1]
    beta_btc = rng.uniform(0.6, 1.4, size=n - 2)
    beta_eth = rng.uniform(0.0, 0.6, size=n - 2)
    alts = btc[:, None] * beta_btc + eth[:, None] * beta_eth + raw[:, 2:]
    log_returns = np.column_stack([btc, eth, alts])

    first_price = np.concatenate(
        [[42_000.0, 2_300.0], np.exp(rng.uniform(np.log(0.05), np.log(500.0), size=n - 2))]
    )
    close = first_price * np.exp(np.cumsum(log_returns, axis=0))
    open_ = np.vstack([first_price, close[:-1]])
    spread = np.abs(log_returns) + np.abs(rng.normal(0.0, 0.3, size=(t, n))) * daily_vol * scale
    high = np.maximum(open_, close) * np.exp(spread * rng.uniform(0.1, 0.6, size=(t, n)))
    low = np.minimum(open_, close) * np.exp(-spread * rng.uniform(0.1, 0.6, size=(t, n)))
    dollar_volume = (
        np.exp(rng.uniform(np.log(2e5), np.log(5e7), size=n))
        * (1.0 + 25.0 * np.abs(log_returns) / (daily_vol * scale))
        * np.exp(rng.normal(0.0, 0.35, size=(t, n)))
    )
    vwap = np.clip(np.sqrt(high * low), low, high)
    volume = dollar_volume / vwap
    if config.planted_ic is not None:
        rho = rho_for_rank_ic(config.planted_ic, n)
        next_returns = np.vstack([log_returns[1:], np.zeros((1, n))])
        volume = np.exp(plant_log_volume(np.log(volume), next_returns, rho))

    symbols = _symbols(n)
    ids = [f"{_VENUE}:{symbol}/USD" for symbol in symbols]
    times = config.start_ms + np.arange(t, dtype=np.int64) * FREQ_MS[config.freq]
    bars = pd.DataFrame(
        {
            "instrument_id": np.repeat(np.array(ids, dtype=object), t),
            "freq": config.freq,
            "bar_open_ms": np.tile(times, n),
            "open": open_.T.ravel(),
            "high": high.T.ravel(),
            "low": low.T.ravel(),
            "close": close.T.ravel(),
            "volume": volume.T.ravel(),
            "vwap": vwap.T.ravel(),
            "log_return": log_returns.T.ravel(),
        }
    )
    instruments = pd.DataFrame(
        {
            "instrument_id": ids,
            "venue": _VENUE,
            "symbol": [f"{symbol}/USD" for symbol in symbols],
            "base": symbols,
            "quote": "USD",
            "kind": "synthetic",
        }
    )
    return instruments, bars


def synthetic_liquidity(config: SyntheticMarketConfig, bars: pd.DataFrame) -> pd.DataFrame:
    """Pool depth in USD per asset and bar: a persistent multiple of trailing dollar volume.

    ``liquidity = m_i · mean(close·volume over the last 24 bars) · exp(x_t)`` with a per-asset
    depth multiple ``m_i`` and an AR(1) log deviation ``x_t`` (persistence 0.98). Drawn from its own
    stream (seeded by the config plus a ``liquidity`` tag), so adding it changes no bar.
    """
    rng = make_rng(
        derive_seed(
            sha256_json({**config.seed_material(), "series": "liquidity"}),
            "synthetic_market",
            version=SYNTHETIC_SEED_VERSION,
        )
    )
    frame = bars[["instrument_id", "bar_open_ms", "close", "volume"]].copy()
    frame["dollar"] = frame["close"] * frame["volume"]
    trailing = frame.groupby("instrument_id", sort=False)["dollar"].transform(
        lambda series: series.rolling(24, min_periods=1).mean()
    )
    ids = list(dict.fromkeys(frame["instrument_id"]))
    multiple = dict(
        zip(ids, np.exp(rng.uniform(np.log(2.0), np.log(20.0), size=len(ids))), strict=True)
    )
    steps = len(frame) // len(ids)
    deviation = np.empty((len(ids), steps))
    shocks = rng.normal(0.0, 0.05, size=(len(ids), steps))
    deviation[:, 0] = shocks[:, 0]
    for index in range(1, steps):
        deviation[:, index] = 0.98 * deviation[:, index - 1] + shocks[:, index]
    frame["liquidity_usd"] = (
        trailing.to_numpy()
        * frame["instrument_id"].map(multiple).to_numpy()
        * np.exp(deviation.ravel())
    )
    return frame[["instrument_id", "bar_open_ms", "liquidity_usd"]]


def ingest_synthetic(
    engine: Engine,
    config: SyntheticMarketConfig,
    *,
    tenant_id: str = "default",
    actor: str = "cli",
    snapshots_every: int | None = None,
) -> dict[str, int | str]:
    """Generate the market and ingest it as one run: validation, quarantine, provenance writer.

    ``snapshots_every`` also stores a price snapshot every that many bars (at the bar's close:
    price, trailing 24-bar dollar volume, pool depth) — the input ``materialize bars`` builds from.
    """
    instruments, bars = generate_market(config)
    writer = ProvenanceWriter(engine, tenant_id=tenant_id, actor=actor)
    run = writer.start_run("synthetic", _VENUE, asdict(config))
    try:
        checked = check_candles(bars, freq_ms=FREQ_MS[config.freq], now_ms=None)
        writer.upsert_instruments(run, instruments)
        writer.write_rejects(run, checked.rejects)
        writer.write_bars(run, checked.accepted, source="synthetic")
        if snapshots_every:
            writer.write_snapshots(run, _snapshots(config, bars, snapshots_every))
    except BaseException as exc:
        writer.finish_run(run, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    counts = writer.finish_run(run, "succeeded")
    return {"ingest_run_id": run.ingest_run_id, **counts}


def _snapshots(config: SyntheticMarketConfig, bars: pd.DataFrame, every: int) -> pd.DataFrame:
    if every < 1:
        raise ValidationError(f"snapshots_every must be >= 1 bar, got {every}")
    liquidity = synthetic_liquidity(config, bars)
    step = FREQ_MS[config.freq]
    index = (bars["bar_open_ms"] - config.start_ms) // step
    chosen = (index % every == every - 1).to_numpy()
    dollar = (bars["close"] * bars["volume"]).groupby(bars["instrument_id"], sort=False)
    volume_24h = dollar.transform(lambda s: s.rolling(86_400_000 // step, min_periods=1).sum())
    return pd.DataFrame(
        {
            "instrument_id": bars["instrument_id"].to_numpy()[chosen],
            "observed_ms": (bars["bar_open_ms"].to_numpy() + step)[chosen],
            "price": bars["close"].to_numpy()[chosen],
            "volume_24h": volume_24h.to_numpy()[chosen],
            "liquidity_usd": liquidity["liquidity_usd"].to_numpy()[chosen],
        }
    )
