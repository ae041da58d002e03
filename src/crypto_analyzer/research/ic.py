"""Information coefficients: per-timestamp cross-sectional correlation of signal and label.

The IC at bar ``t`` is the correlation, across assets, between the signal at ``t`` and the forward
return starting at ``t``. Pearson IC measures linear predictive power; rank IC (Spearman) is robust
to the fat tails of crypto returns and is the headline number. Both are computed for the whole panel
at once: one vectorised ranking of every row, then a row-wise Pearson correlation with NaN-aware
pairwise masks.

A time series of ICs is autocorrelated when labels overlap (an ``h``-bar label at ``t`` shares
``h - 1`` bars with the one at ``t + 1``), so the t-statistic that matters is the Newey-West HAC one
with at least ``h - 1`` lags, computed by :func:`crypto_analyzer.stats.newey_west`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.research._checks import (
    as_float_array,
    check_aligned,
    check_choice,
    check_frame,
    check_int,
)
from crypto_analyzer.research._rowstats import joint_mask, rank_corr, row_corr
from crypto_analyzer.stats import newey_west

__all__ = ["IC_METHODS", "IcSummary", "ic_decay", "ic_series", "summarize_ic"]

IC_METHODS = ("rank", "pearson")


def _ic_series_iv(signal: Any, forward: Any, method: Any, min_assets: Any) -> tuple[str, int]:
    check_frame("signal", signal)
    check_frame("forward", forward)
    check_aligned("forward", forward, "signal", signal)
    method = check_choice("method", method, IC_METHODS)
    return method, check_int("min_assets", min_assets, minimum=3)


def ic_series(
    signal: pd.DataFrame, forward: pd.DataFrame, *, method: str = "rank", min_assets: int = 3
) -> pd.Series:
    """Per-timestamp IC between a signal and one forward-return panel.

    Parameters
    ----------
    signal, forward : pandas.DataFrame
        Aligned time x asset frames (same index and columns). NaN in either excludes that asset at
        that timestamp.
    method : {"rank", "pearson"}
        Spearman rank correlation (average ranks for ties, computed over the assets present in both)
        or Pearson correlation.
    min_assets : int
        Timestamps with fewer joint observations, or a constant side, get NaN.

    Returns
    -------
    pandas.Series
        IC per timestamp, indexed like ``signal``.

    Notes
    -----
    Rank IC equals ``scipy.stats.spearmanr`` on each timestamp's jointly observed assets, and so
    alphalens-reloaded's ``factor_information_coefficient`` (the test oracle) to ~1e-15.
    """
    method, min_assets = _ic_series_iv(signal, forward, method, min_assets)
    x, y = as_float_array(signal), as_float_array(forward)
    if method == "rank":
        corr, _ = rank_corr(x, y, min_obs=min_assets)
    else:
        corr, _ = row_corr(*joint_mask(x, y), min_obs=min_assets)
    return pd.Series(corr, index=signal.index, name=f"{method}_ic")


@dataclass(frozen=True, slots=True)
class IcSummary:
    """Summary of an IC time series.

    Attributes
    ----------
    method : str
        ``"rank"`` or ``"pearson"``.
    horizon : int
        Label horizon in bars.
    mean, std : float or None
        Mean and sample standard deviation (``ddof=1``) of the non-missing ICs.
    t_naive : float or None
        ``mean / (std / sqrt(n_obs))``: assumes independent ICs, overstated when labels overlap.
    t_hac, se_hac, p_hac : float or None
        Newey-West t, standard error and two-sided normal p-value of the mean.
    hac_lags : int or None
        Bartlett lag used: ``max(horizon - 1, floor(4 (n/100)^(2/9)))`` unless given.
    hit_rate : float or None
        Share of timestamps with IC > 0.
    n_obs : int
        Timestamps with a defined IC. Undefined statistics are None (never NaN), so the summary
        is canonical-JSON-able.
    """

    method: str
    horizon: int
    mean: float | None
    std: float | None
    t_naive: float | None
    t_hac: float | None
    se_hac: float | None
    p_hac: float | None
    hac_lags: int | None
    hit_rate: float | None
    n_obs: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for canonical JSON."""
        return asdict(self)


def _summarize_ic_iv(ic: Any, horizon: Any, method: Any, hac_lags: Any) -> tuple[Any, ...]:
    if isinstance(ic, pd.Series):
        values = ic.to_numpy(dtype=np.float64, na_value=np.nan)
    elif isinstance(ic, np.ndarray):
        if ic.ndim != 1:
            raise ValueError(f"ic must be 1-D, got shape {ic.shape}")
        values = ic.astype(np.float64)
    else:
        raise TypeError(f"ic must be a pandas Series or 1-D numpy array, got {type(ic).__name__}")
    if np.isinf(values).any():
        raise ValueError("ic contains inf; ICs lie in [-1, 1], use NaN for undefined timestamps")
    horizon = check_int("horizon", horizon, minimum=1)
    method = check_choice("method", method, IC_METHODS)
    if hac_lags is not None:
        hac_lags = check_int("hac_lags", hac_lags, minimum=horizon - 1)
    return values[~np.isnan(values)], horizon, method, hac_lags


def summarize_ic(
    ic: pd.Series | np.ndarray,
    *,
    horizon: int,
    method: str = "rank",
    hac_lags: int | None = None,
) -> IcSummary:
    """Mean, dispersion, naive and HAC t-statistics and hit rate of an IC series.

    Parameters
    ----------
    ic : pandas.Series or numpy.ndarray
        IC per timestamp in time order; NaN entries (undefined timestamps) are dropped.
    horizon : int
        Label horizon ``h``: overlapping labels make consecutive ICs correlated up to lag ``h - 1``.
    method : {"rank", "pearson"}
        Recorded in the summary.
    hac_lags : int, optional
        Bartlett lag; must be ``>= horizon - 1``. Default: the larger of ``horizon - 1`` and the
        Newey-West (1994) rule applied by :func:`crypto_analyzer.stats.newey_west`.

    Returns
    -------
    IcSummary

    Notes
    -----
    Dropping undefined timestamps closes the gaps before the HAC autocovariances are taken; with
    few gaps this is immaterial, and it is what the tests' statsmodels oracle does too.

    References
    ----------
    .. [1] Newey, W. K., & West, K. D. (1987). Econometrica 55(3), 703-708.
    .. [2] Grinold, R. C., & Kahn, R. N. (2000). *Active Portfolio Management*, ch. 6 (the IC).
    """
    values, horizon, method, hac_lags = _summarize_ic_iv(ic, horizon, method, hac_lags)
    n = int(values.size)
    if n == 0:
        return IcSummary(method, horizon, None, None, None, None, None, None, None, None, 0)
    mean = float(values.mean())
    hit = float(np.mean(values > 0))
    if n < 2:
        return IcSummary(method, horizon, mean, None, None, None, None, None, None, hit, n)
    std = float(values.std(ddof=1))
    t_naive = mean / (std / np.sqrt(n)) if std > 0 else None
    if hac_lags is None:
        hac = newey_west(values)
        if hac.lags < horizon - 1:
            hac = newey_west(values, lags=min(horizon - 1, n - 1))
    else:
        hac = newey_west(values, lags=min(hac_lags, n - 1))
    return IcSummary(
        method=method,
        horizon=horizon,
        mean=mean,
        std=std,
        t_naive=None if t_naive is None else float(t_naive),
        t_hac=hac.t,
        se_hac=hac.se,
        p_hac=hac.p_value,
        hac_lags=hac.lags,
        hit_rate=hit,
        n_obs=n,
    )


def _ic_decay_iv(signal: Any, forwards: Any, min_assets: Any) -> int:
    check_frame("signal", signal)
    if not isinstance(forwards, Mapping) or not forwards:
        raise TypeError("forwards must be a non-empty mapping horizon -> DataFrame")
    for h, frame in forwards.items():
        check_int("forwards key (horizon)", h, minimum=1)
        check_frame(f"forwards[{h}]", frame)
        check_aligned(f"forwards[{h}]", frame, "signal", signal)
    return check_int("min_assets", min_assets, minimum=3)


def ic_decay(
    signal: pd.DataFrame, forwards: Mapping[int, pd.DataFrame], *, min_assets: int = 3
) -> pd.DataFrame:
    """IC decay table: how predictive power fades (or builds) with the label horizon.

    Parameters
    ----------
    signal : pandas.DataFrame
        Signal, time x asset.
    forwards : mapping of int to pandas.DataFrame
        Horizon -> aligned forward returns (:func:`~crypto_analyzer.research.forward_returns`).
    min_assets : int
        As in :func:`ic_series`.

    Returns
    -------
    pandas.DataFrame
        One row per (horizon, method) with every :class:`IcSummary` field as a column, sorted by
        horizon then method.
    """
    min_assets = _ic_decay_iv(signal, forwards, min_assets)
    rows = []
    for h in sorted(forwards):
        for method in IC_METHODS:
            series = ic_series(signal, forwards[h], method=method, min_assets=min_assets)
            rows.append(summarize_ic(series, horizon=h, method=method).to_dict())
    return pd.DataFrame(rows).set_index(["horizon", "method"])
