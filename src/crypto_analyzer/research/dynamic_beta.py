"""Time-varying factor betas by a Kalman filter (random-walk coefficients).

A rolling window treats the last ``window`` bars as equally informative and everything older as
irrelevant. When exposures drift (a coin's beta to BTC rising through a hype cycle) a recursive
estimator that discounts old data smoothly tracks them with less lag. With random-walk coefficients
``theta_t = theta_{t-1} + w_t`` (``w ~ N(0, q I)``) and observation
``r_t = [1, f_t] theta_t + v_t`` (``v ~ N(0, s)``) the Kalman filter is the exact recursive
posterior; ``q = 0`` reduces it to recursive least squares with a diffuse-ish prior.

The filter runs forward in time only (no smoothing), so the estimate after bar ``t`` uses data at or
before ``t``; the as-of lag then shifts it like the rolling model. The loop is over time; every
step updates all assets at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.research._checks import check_float
from crypto_analyzer.research.factors import (
    FactorFit,
    _factor_inputs_iv,
    _lag_frame,
    factor_fit_config,
    residualize,
)

__all__ = ["fit_kalman_factor_model"]


def _fit_kalman_iv(
    returns: Any, factor_ids: Any, lag: Any, state_var: Any, obs_var: Any, prior_var: Any
) -> tuple[list[Any], int, float, float, float]:
    ids, lag = _factor_inputs_iv(returns, factor_ids, lag)
    q = check_float("state_var", state_var, minimum=0.0)
    s = check_float("obs_var", obs_var, minimum=0.0, strict_min=True)
    p0 = check_float("prior_var", prior_var, minimum=0.0, strict_min=True)
    return ids, lag, q, s, p0


def fit_kalman_factor_model(
    returns: pd.DataFrame,
    *,
    factor_ids: Sequence[Any],
    state_var: float = 1e-6,
    obs_var: float = 1e-4,
    prior_var: float = 1.0,
    lag: int = 1,
    exclude_factors: bool = True,
) -> FactorFit:
    """Kalman-filter factor model with random-walk alpha and betas.

    Parameters
    ----------
    returns : pandas.DataFrame
        Log returns, time x asset, factor instruments among the columns.
    factor_ids : sequence
        Factor instrument ids.
    state_var : float
        ``q``: per-bar variance of each coefficient's random walk. Larger tracks faster, noisier.
    obs_var : float
        ``s``: idiosyncratic return variance per bar (e.g. ``0.01**2`` for 1 % bars).
    prior_var : float
        Prior variance of every coefficient around 0 at the first bar.
    lag : int
        As-of lag: estimates used at ``t`` are the filtered state after bar ``t - lag``.
    exclude_factors : bool
        Drop the factor instruments from the outputs.

    Returns
    -------
    FactorFit
        ``r2`` and ``n_obs`` are None (no window).

    Notes
    -----
    Bars where an asset's return or any factor return is missing get the prediction step only
    (uncertainty grows, the state does not move). References: Harvey (1989), *Forecasting,
    Structural Time Series Models and the Kalman Filter*, ch. 3; the random-walk-beta specification
    is the standard dynamic-hedge-ratio model.
    """
    ids, lag, q, s, p0 = _fit_kalman_iv(returns, factor_ids, lag, state_var, obs_var, prior_var)
    assets = returns.columns.difference(pd.Index(ids), sort=False) if exclude_factors else None
    assets = returns.columns if assets is None else assets
    y = returns[assets].to_numpy(dtype=np.float64, na_value=np.nan)
    x = returns[ids].to_numpy(dtype=np.float64, na_value=np.nan)
    theta = _filter(y, x, q, s, p0)
    index = returns.index
    alpha = _lag_frame(theta[0], lag, index, assets)
    betas = {f: _lag_frame(theta[a + 1], lag, index, assets) for a, f in enumerate(ids)}
    config = factor_fit_config(
        method="kalman",
        factor_ids=ids,
        lag=lag,
        exclude_factors=exclude_factors,
        params={"state_var": q, "obs_var": s, "prior_var": p0},
    )
    residuals = residualize(returns[assets], returns[ids], betas=betas, alpha=alpha)
    return FactorFit(betas, alpha, None, residuals, None, config)


def _filter(y: np.ndarray, x: np.ndarray, q: float, s: float, p0: float) -> np.ndarray:
    """Filtered coefficients ``(k + 1, n_times, n_assets)``; NaN until an asset's first update."""
    n_times, n_assets = y.shape
    k = x.shape[1] + 1
    state = np.zeros((n_assets, k))
    cov = np.broadcast_to(np.eye(k) * p0, (n_assets, k, k)).copy()
    seen = np.zeros(n_assets, dtype=bool)
    out = np.full((k, n_times, n_assets), np.nan)
    eye_q = np.eye(k) * q
    x_ok = np.isfinite(x).all(axis=1)
    for t in range(n_times):
        cov += eye_q
        if x_ok[t]:
            obs = np.isfinite(y[t])
            if obs.any():
                h = np.concatenate(([1.0], x[t]))
                ph = cov[obs] @ h
                gain = ph / (ph @ h + s)[:, None]
                state[obs] += gain * (y[t, obs] - state[obs] @ h)[:, None]
                cov[obs] -= gain[:, :, None] * ph[:, None, :]
                seen |= obs
        out[:, t, seen] = state[seen].T
    return out
