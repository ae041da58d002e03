"""The planted cross-sectional signal of the synthetic market, defined exactly.

Feature (computed from stored bars only — volume — so research code reproduces it bit for bit):

.. math::

    lv_{t,i} = \\ln(\\text{volume}_{t,i}),\\qquad
    s_{t,i} = lv_{t,i} - \\frac{1}{W}\\sum_{k=1}^{W} lv_{t-k,i},\\qquad
    f_{t,i} = \\frac{s_{t,i} - \\operatorname{mean}_j s_{t,j}}{\\operatorname{std}_j s_{t,j}}

with :data:`PLANTED_WINDOW` ``W = 24`` bars and the population standard deviation (ddof = 0) across
the assets present at ``t``; ``f`` is NaN for the first ``W`` bars of an asset, where a trailing
window is incomplete, and where the cross-section has no dispersion. In words: a cross-sectionally
z-scored trailing log-volume surprise.

Planting. With ``planted_ic = κ``, for every bar ``t`` that has a next bar, the generator sets the
log volume so that ``s_{t,·}`` is a common positive multiple of
``u = ρ·a + √(1−ρ²)·g``, where ``a`` are normal scores of the cross-sectional ranks of the *next*
bar's log return ``r_{t+1,·}`` and ``g`` is the z-scored "natural" surprise (volume rising with
``|r_t|``, plus noise), independent of ``a``. The feature's ranks are then those of ``u``, so its
rank IC with ``r_{t+1}`` has the expectation of a Gaussian-copula Spearman correlation; ``ρ`` is
chosen so that this expectation equals ``κ`` for the market's number of assets ``n``:

.. math::

    \\mathbb{E}[r_s] = \\frac{6}{\\pi (n+1)}
        \\left[\\arcsin\\rho + (n-2)\\arcsin\\frac{\\rho}{2}\\right]

(Moran 1948; the finite-sample mean of Spearman's rho under bivariate normality). The tests measure
the mean rank IC on a generated market and compare it with ``κ``.

References
----------
.. [1] P. A. P. Moran, "Rank correlation and product-moment correlation", Biometrika 35 (1948).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = [
    "PLANTED_WINDOW",
    "plant_log_volume",
    "planted_feature",
    "rho_for_rank_ic",
    "spearman_mean",
]

PLANTED_WINDOW = 24


def planted_feature(bars: pd.DataFrame, *, window: int = PLANTED_WINDOW) -> pd.DataFrame:
    """The planted feature from a long bars frame (``instrument_id, bar_open_ms, volume``).

    Returns a wide frame: index ``bar_open_ms`` (sorted), one column per instrument (sorted).
    """
    if window < 2:
        raise ValueError(f"window must be >= 2, got {window}")
    missing = {"instrument_id", "bar_open_ms", "volume"} - set(bars.columns)
    if missing:
        raise ValueError(f"bars lack column(s) {', '.join(sorted(missing))}")
    volume = bars.pivot(index="bar_open_ms", columns="instrument_id", values="volume")
    volume = volume.sort_index().reindex(columns=sorted(volume.columns)).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_volume = np.log(volume.where(volume > 0))
    trailing = log_volume.shift(1).rolling(window, min_periods=window).mean()
    surprise = log_volume - trailing
    return _zscore_rows(surprise)


def spearman_mean(rho: float, n: int) -> float:
    """Expected Spearman correlation of a bivariate normal pair with correlation ``rho``."""
    return 6.0 / (math.pi * (n + 1)) * (math.asin(rho) + (n - 2) * math.asin(rho / 2.0))


def rho_for_rank_ic(rank_ic: float, n: int) -> float:
    """Invert :func:`spearman_mean` by bisection: the copula correlation giving ``rank_ic``."""
    if not -0.9 <= rank_ic <= 0.9:
        raise ValueError(f"planted rank IC must lie in [-0.9, 0.9], got {rank_ic}")
    if n < 3:
        raise ValueError(f"need at least 3 assets, got {n}")
    low, high = 0.0, 1.0
    target = abs(rank_ic)
    for _ in range(80):
        middle = (low + high) / 2.0
        if spearman_mean(middle, n) < target:
            low = middle
        else:
            high = middle
    return math.copysign((low + high) / 2.0, rank_ic)


def plant_log_volume(
    natural: np.ndarray, next_returns: np.ndarray, rho: float, window: int = PLANTED_WINDOW
) -> np.ndarray:
    """Log volumes whose feature ranks follow ``u`` (see the module docstring).

    ``natural`` (T × n) is the unplanted log volume; ``next_returns`` (T × n) holds ``r_{t+1}`` in
    row ``t`` (the last row is ignored). Rows before ``window`` keep their natural values.
    """
    from scipy.special import ndtri  # imported here: only planted markets need it

    steps, n = natural.shape
    out = natural.copy()
    scale = math.sqrt(max(0.0, 1.0 - rho * rho))
    for t in range(window, steps):
        trailing = out[t - window : t].mean(axis=0)
        raw = natural[t] - trailing
        spread = raw.std()
        noise = (raw - raw.mean()) / spread if spread > 0 else np.zeros(n)
        if t < steps - 1 and rho != 0.0:
            ranks = np.argsort(np.argsort(next_returns[t], kind="stable"), kind="stable")
            scores = ndtri((ranks + 0.5) / n)
            mixed = rho * scores + scale * noise
        else:
            mixed = noise
        out[t] = trailing + (spread if spread > 0 else 1.0) * mixed
    return out


def _zscore_rows(frame: pd.DataFrame) -> pd.DataFrame:
    values = frame.to_numpy(dtype=np.float64)
    present = np.isfinite(values)
    count = present.sum(axis=1, keepdims=True)
    filled = np.where(present, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=1, keepdims=True) / count
        centred = np.where(present, values - mean, 0.0)
        std = np.sqrt((centred**2).sum(axis=1, keepdims=True) / count)
        out = np.where(present & (std > 0), centred / std, np.nan)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)
