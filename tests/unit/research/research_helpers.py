"""Synthetic data helpers for the research tests (test-only; not part of the package).

The planted panel: each bar, a standard-normal signal ``s`` and the next bar's returns are drawn
as a bivariate normal pair with correlation ``rho``; ``rho`` is solved so that the *expected*
finite-sample Spearman correlation over ``n_assets`` equals the planted rank IC exactly (Moran,
1948):

.. math::

   E[r_s] = \\frac{6}{\\pi (n + 1)}\\left[\\arcsin\\rho + (n - 2)\\arcsin(\\rho / 2)\\right]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from crypto_analyzer.research import Panel, panel_from_bars

START_MS = 1_700_000_000_000
HOUR_MS = 3_600_000


def bars_frame(
    close: np.ndarray,
    volume: np.ndarray | None = None,
    *,
    ids: list[int] | None = None,
    start_ms: int = START_MS,
    bar_ms: int = HOUR_MS,
) -> pd.DataFrame:
    """Long bars frame (the DB loader's format) from wide close/volume arrays; NaN = no bar."""
    n_times, n_assets = close.shape
    ids = list(range(1, n_assets + 1)) if ids is None else ids
    volume = np.full(close.shape, 1000.0) if volume is None else volume
    times = start_ms + bar_ms * np.arange(n_times, dtype=np.int64)
    tt, aa = np.meshgrid(times, np.asarray(ids), indexing="ij")
    keep = ~np.isnan(close)
    c = close[keep]
    return pd.DataFrame(
        {
            "instrument_id": aa[keep],
            "bar_open_ms": tt[keep],
            "open": c,
            "high": c * 1.01,
            "low": c * 0.99,
            "close": c,
            "volume": volume[keep],
        }
    )


def expected_spearman(rho: float, n: int) -> float:
    """Expected Spearman correlation of ``n`` bivariate-normal pairs with correlation ``rho``."""
    return 6.0 / (np.pi * (n + 1)) * (np.arcsin(rho) + (n - 2) * np.arcsin(rho / 2.0))


class Planted(NamedTuple):
    panel: Panel
    signal: pd.DataFrame
    rank_ic: float


def planted_panel(
    rng: np.random.Generator,
    *,
    n_times: int,
    n_assets: int,
    rank_ic: float,
    vol: float = 0.01,
) -> Planted:
    """Panel whose next-bar returns have expected rank IC ``rank_ic`` with ``signal``."""
    if rank_ic == 0.0:
        rho = 0.0
    else:
        rho = brentq(lambda r: expected_spearman(r, n_assets) - rank_ic, -0.999, 0.999)
    s = rng.standard_normal((n_times, n_assets))
    eps = rng.standard_normal((n_times, n_assets))
    ret = np.full((n_times, n_assets), 0.0)
    ret[1:] = vol * (rho * s[:-1] + np.sqrt(1.0 - rho**2) * eps[1:])
    close = 100.0 * np.exp(np.cumsum(ret, axis=0))
    volume = np.exp(rng.normal(8.0, 0.5, size=(n_times, n_assets)))
    panel = panel_from_bars(bars_frame(close, volume))
    signal = pd.DataFrame(s, index=panel.times, columns=panel.assets)
    return Planted(panel, signal, rank_ic)
