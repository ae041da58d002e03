"""Vectorised rolling OLS of many assets on a few common regressors.

Every asset is regressed on the same ``k`` factor return series (plus an intercept) over a trailing
window of ``window`` bars. A per-window ``lstsq`` loop costs ``n_times * n_assets`` small
factorisations; here the window moments come from cumulative sums over the whole panel, and the
``k x k`` normal equations of every (time, asset) pair are solved together by a batched Cholesky
elimination written with array operations (``k`` is tiny, so the Python loop is over ``k`` only).

Missing data is handled per asset: an observation enters a window only when the asset's return and
every factor return are finite, so each (time, asset) pair has its own normal equations.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from crypto_analyzer.research._checks import check_int

__all__ = ["RollingOls", "asset_blocks", "rolling_ols", "rolling_ols_blocks"]

_CHUNK_ELEMENTS = 100_000
_PIVOT_RTOL = 1e-10


@dataclass(frozen=True, slots=True)
class RollingOls:
    """Estimates for the window ending at each row (no as-of lag applied).

    Attributes
    ----------
    beta : numpy.ndarray
        ``(k, n_times, n_assets)`` slopes; ``beta[a]`` is the panel of slopes on regressor ``a``.
    alpha : numpy.ndarray
        ``(n_times, n_assets)`` intercepts.
    r2 : numpy.ndarray
        ``(n_times, n_assets)`` in-window coefficient of determination.
    n_obs : numpy.ndarray
        ``(n_times, n_assets)`` observations used; estimates are NaN when this is below
        ``min_obs`` or the regressors are collinear in the window.
    window, min_obs : int
        Settings used.
    """

    beta: np.ndarray
    alpha: np.ndarray
    r2: np.ndarray
    n_obs: np.ndarray
    window: int
    min_obs: int


def _settings_iv(x: Any, window: Any, min_obs: Any) -> tuple[np.ndarray, int, int]:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy array, got {type(x).__name__}")
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError(f"x must be 2-D (n_times, k>=1), got shape {x.shape}")
    window = check_int("window", window, minimum=2)
    k = x.shape[1]
    min_obs = window if min_obs is None else check_int("min_obs", min_obs, minimum=k + 2)
    if min_obs > window:
        raise ValueError(f"min_obs must be <= window ({window}), got {min_obs}")
    if window < k + 2:
        raise ValueError(f"window must be >= k + 2 = {k + 2} for {k} regressors, got {window}")
    return x.astype(np.float64), window, min_obs


def _rolling_ols_iv(y: Any, x: Any, window: Any, min_obs: Any) -> tuple[Any, ...]:
    if not isinstance(y, np.ndarray) or not isinstance(x, np.ndarray):
        raise TypeError(
            f"y and x must be numpy arrays, got {type(y).__name__} and {type(x).__name__}"
        )
    if y.ndim != 2:
        raise ValueError(f"y must be 2-D (n_times, n_assets), got shape {y.shape}")
    if x.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[1] < 1:
        raise ValueError(f"x must be 2-D (n_times={y.shape[0]}, k>=1), got shape {x.shape}")
    x, window, min_obs = _settings_iv(x, window, min_obs)
    return y.astype(np.float64), x, window, min_obs


def asset_blocks(n_times: int, n_assets: int) -> list[slice]:
    """The groups of consecutive columns that are fitted together, in order.

    Each asset's estimates are its own regression, but numpy's reductions add in an order that
    can depend on how many columns share an array; a caller that fits block by block (to write
    straight into its own outputs) must use these groups to get :func:`rolling_ols`'s bits.
    """
    chunk = max(1, _CHUNK_ELEMENTS // max(1, n_times))
    return [slice(start, min(n_assets, start + chunk)) for start in range(0, n_assets, chunk)]


def rolling_ols_blocks(
    y_blocks: Iterable[np.ndarray], x: np.ndarray, *, window: int, min_obs: int | None = None
) -> Iterator[RollingOls]:
    """:func:`rolling_ols` of each block of ``y`` columns, one block at a time.

    ``y_blocks`` yields the ``(n_times, n_cols)`` blocks of :func:`asset_blocks`, each in the
    memory order the whole ``y`` has (the layout of a block steers numpy's summation order); a
    block's estimates are then exactly the columns :func:`rolling_ols` gives for it. Only one
    block's estimates are alive at a time, so a caller can store them in its own layout (lagged,
    say) without the whole unlagged grids. Settings are checked before the first block is read.
    """
    x, window, min_obs = _settings_iv(x, window, min_obs)
    return _iter_blocks(y_blocks, x, window, min_obs)


def _iter_blocks(
    y_blocks: Iterable[np.ndarray], x: np.ndarray, window: int, min_obs: int
) -> Iterator[RollingOls]:
    n_times, k = x.shape
    x_ok = np.isfinite(x).all(axis=1)
    cx = x[x_ok].mean(axis=0) if x_ok.any() else np.zeros(k)
    xc = np.where(x_ok[:, None], x - cx, 0.0)
    for block in y_blocks:
        if block.ndim != 2 or block.shape[0] != n_times:
            raise ValueError(f"y blocks must be 2-D with {n_times} rows, got shape {block.shape}")
        b, a, r, n = _fit_chunk(block, xc, x_ok, window, min_obs)
        for j in range(k):
            a = a - b[j] * cx[j]
        yield RollingOls(
            beta=np.stack(b) if k > 1 else b[0][None],
            alpha=a,
            r2=r,
            n_obs=n,
            window=window,
            min_obs=min_obs,
        )


def rolling_ols(
    y: np.ndarray, x: np.ndarray, *, window: int, min_obs: int | None = None
) -> RollingOls:
    """Rolling OLS ``y[:, j] = alpha_j + x @ beta_j + e`` over trailing windows.

    Parameters
    ----------
    y : numpy.ndarray
        ``(n_times, n_assets)`` dependent returns; NaN = missing.
    x : numpy.ndarray
        ``(n_times, k)`` regressors shared by all assets; NaN = missing (drops that row for all).
    window : int
        Window length in rows; the estimate at row ``t`` uses rows ``t - window + 1 .. t``.
    min_obs : int, optional
        Minimum valid observations in a window (default ``window``; at least ``k + 2``).

    Returns
    -------
    RollingOls

    Notes
    -----
    Window sums are differences of cumulative sums. To keep that differencing well conditioned the
    data are first shifted by per-column constants (the column means); with an intercept in the
    model the slopes are exactly invariant to such shifts and the intercept is shifted back, so
    the constants change rounding only, not the estimates, and carry no information across time.
    Results match ``numpy.linalg.lstsq`` per window to about 1e-12 on return-scale data (see tests).
    """
    y, x, window, min_obs = _rolling_ols_iv(y, x, window, min_obs)
    n_times, n_assets = y.shape
    k = x.shape[1]
    beta = np.empty((k, n_times, n_assets))
    alpha = np.empty((n_times, n_assets))
    r2 = np.empty((n_times, n_assets))
    n_obs = np.empty((n_times, n_assets), dtype=np.int64)
    blocks = asset_blocks(n_times, n_assets)
    fitted = rolling_ols_blocks((y[:, cols] for cols in blocks), x, window=window, min_obs=min_obs)
    for cols, est in zip(blocks, fitted, strict=True):
        beta[:, :, cols] = est.beta
        alpha[:, cols] = est.alpha
        r2[:, cols] = est.r2
        n_obs[:, cols] = est.n_obs
    return RollingOls(beta=beta, alpha=alpha, r2=r2, n_obs=n_obs, window=window, min_obs=min_obs)


def _window_sum(values: np.ndarray, window: int) -> np.ndarray:
    out = np.cumsum(values, axis=0)
    out[window:] -= out[:-window].copy()
    return out


def _fit_chunk(
    y: np.ndarray, xc: np.ndarray, x_ok: np.ndarray, window: int, min_obs: int
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    # Matrices are held as nested lists of (n_times, n_cols) arrays so every operation runs on
    # large contiguous blocks instead of tiny trailing k x k axes.
    k = xc.shape[1]
    mask = np.isfinite(y) & x_ok[:, None]
    counts = mask.sum(axis=0)
    cy = np.where(counts > 0, np.where(mask, y, 0.0).sum(axis=0) / np.maximum(counts, 1), 0.0)
    m = mask.astype(np.float64)
    yc = np.where(mask, y - cy, 0.0)
    cols = [xc[:, [a]] for a in range(k)]
    n = _window_sum(m, window)
    sy = _window_sum(yc, window)
    syy = _window_sum(yc * yc, window)
    sx = [_window_sum(m * cols[a], window) for a in range(k)]
    sxy = [_window_sum(yc * cols[a], window) for a in range(k)]
    sxx = [[_window_sum(m * (cols[a] * cols[b]), window) for b in range(a + 1)] for a in range(k)]
    inv_n = np.divide(1.0, n, out=np.zeros_like(n), where=n > 0.5)
    ybar = sy * inv_n
    cov_xx = [[sxx[a][b] - sx[a] * sx[b] * inv_n for b in range(a + 1)] for a in range(k)]
    cov_xy = [sxy[a] - sx[a] * ybar for a in range(k)]
    var_y = syy - sy * ybar
    beta, ok = _solve_spd(cov_xx, cov_xy)
    alpha = ybar + cy
    ssr = var_y.copy()
    for a in range(k):
        alpha -= beta[a] * sx[a] * inv_n
        ssr -= beta[a] * cov_xy[a]
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(var_y > 0, 1.0 - ssr / var_y, np.nan)
    n_int = np.rint(n).astype(np.int64)
    bad = ~ok | (n_int < min_obs)
    for a in range(k):
        beta[a][bad] = np.nan
    alpha[bad] = np.nan
    r2[bad] = np.nan
    return beta, alpha, r2, n_int


def _solve_spd(
    a: list[list[np.ndarray]], b: list[np.ndarray]
) -> tuple[list[np.ndarray], np.ndarray]:
    """Solve ``A x = b`` elementwise for a field of small symmetric positive (semi)definite systems.

    ``a[i][j]`` (``j <= i``, lower triangle) and ``b[i]`` are equally shaped arrays: one system per
    element. A batched Cholesky factorisation and two triangular solves loop over the matrix order
    only. A pivot at or below ``_PIVOT_RTOL`` times its diagonal entry marks the system singular
    (collinear or constant regressors in the window); those solutions are NaN and flagged.
    """
    k = len(b)
    low: list[list[np.ndarray]] = [[] for _ in range(k)]
    ok = np.ones(b[0].shape, dtype=bool)
    for j in range(k):
        diag = a[j][j].copy()
        for p in range(j):
            diag -= low[j][p] * low[j][p]
        ok &= diag > _PIVOT_RTOL * np.abs(a[j][j])
        root = np.sqrt(np.where(ok, diag, 1.0))
        for i in range(j, k):
            if i == j:
                low[j].append(root)
                continue
            val = a[i][j].copy()
            for p in range(j):
                val -= low[i][p] * low[j][p]
            low[i].append(val / root)
    z: list[np.ndarray] = []
    for i in range(k):
        val = b[i].copy()
        for p in range(i):
            val -= low[i][p] * z[p]
        z.append(val / low[i][i])
    x: list[np.ndarray] = [np.empty(0)] * k
    for i in reversed(range(k)):
        val = z[i].copy()
        for p in range(i + 1, k):
            val -= low[p][i] * x[p]
        x[i] = val / low[i][i]
    return x, ok
