"""Signal definitions: raw cross-sectional scores, each using only data at or before bar ``t``.

Every function takes a :class:`~crypto_analyzer.research.panel.Panel` (and, for residual-based
signals, a lagged :class:`~crypto_analyzer.research.factors.FactorFit`) and returns a raw score,
time x asset, where *higher means expected to outperform*. Scores are not normalised here; the
registry's :func:`~crypto_analyzer.research.signal_registry.compute_signal` applies the
cross-sectional z-score. Rolling windows are trailing and include bar ``t``; a window with too few
valid bars gives NaN (no view) rather than a guess. Each function's lookback in bars is declared in
the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd

import crypto_analyzer.core.row_blocks as row_blocks_module
from crypto_analyzer.research.factors import FactorFit
from crypto_analyzer.research.panel import Panel

__all__ = [
    "clean_momentum",
    "liquidity_shock_reversion",
    "low_vol",
    "low_vol_dispersion",
    "momentum_24h",
    "short_reversal",
    "value_vs_beta",
    "volume_shock",
    "volume_surprise",
]


def _min_periods(window: int) -> int:
    return max(1, int(np.ceil(0.75 * window)))


def _trailing_sum(frame: pd.DataFrame, window: int) -> pd.DataFrame:
    """Sum over the trailing window, rescaled from the mean so a few missing bars do not bias it."""
    return frame.rolling(window, min_periods=_min_periods(window)).mean() * window


def _by_columns(compute: Callable[..., pd.DataFrame], *frames: pd.DataFrame) -> pd.DataFrame:
    """``compute(*frames)`` for a score whose every column depends on its own columns only.

    Rolling windows, shifts and elementwise arithmetic keep columns apart (pandas rolls each
    column on its own), so running ``compute`` on blocks of ~8 MB of columns and writing each
    block into one column-major array (the layout pandas gives the whole-frame result) gives
    the whole-frame bits, while its log, shift and rolling temporaries are block-sized rather
    than several panel copies (670 MB for ``volume_shock`` at 500 assets x 4 years, hourly).
    """
    like = frames[0]
    n_rows, n_cols = like.shape
    if n_rows == 0 or n_cols == 0:
        return compute(*frames)
    step = max(1, row_blocks_module.ROW_BLOCK_CELLS // n_rows)
    out = np.empty((n_rows, n_cols), order="F")
    for start in range(0, n_cols, step):
        cols = slice(start, min(start + step, n_cols))
        part = compute(*(frame.iloc[:, cols] for frame in frames))
        out[:, cols] = part.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.DataFrame(out, index=like.index, columns=like.columns, copy=False)


def _safe_log(frame: pd.DataFrame) -> pd.DataFrame:
    arr = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.full(arr.shape, np.nan)
    np.log(arr, out=out, where=arr > 0)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def clean_momentum(
    panel: Panel, *, factor_fit: FactorFit, lookback: int = 72, skip: int = 1
) -> pd.DataFrame:
    """Residual ("clean") momentum: sum of factor-model residuals over ``lookback`` bars.

    Economic idea: trends in the part of a coin's return that BTC/ETH do not explain reflect slow
    diffusion of coin-specific news, and persist; raw momentum in crypto is mostly a disguised bet
    on the market factor. The most recent ``skip`` bars are left out because very short-horizon
    returns reverse (bid-ask bounce, liquidity shocks). Residuals come from a lagged factor fit, so
    the betas behind them predate each bar.
    """
    del panel  # residuals already carry the panel's alignment
    return _by_columns(
        lambda residuals: _trailing_sum(residuals, lookback).shift(skip), factor_fit.residuals
    )


def value_vs_beta(panel: Panel, *, factor_fit: FactorFit, lookback: int = 720) -> pd.DataFrame:
    """Value relative to beta: minus the cumulative residual return over a long window.

    Economic idea: a coin whose price has drifted far below what its factor exposure implies
    (large negative cumulative residual) is "cheap versus beta"; over long horizons such
    relative mispricing tends to mean-revert as arbitrage capital and rebalancing flows close it.
    """
    del panel
    return _by_columns(lambda residuals: -_trailing_sum(residuals, lookback), factor_fit.residuals)


def momentum_24h(panel: Panel, *, lookback: int = 24) -> pd.DataFrame:
    """Raw momentum: log return over the last ``lookback`` bars (24 = one day of hourly bars).

    Economic idea: attention and flows chase recent winners at daily horizons in crypto (retail
    herding, funding-driven leverage), so recent relative strength continues for a while.
    """
    return _by_columns(lambda returns: _trailing_sum(returns, lookback), panel.log_returns)


def short_reversal(panel: Panel, *, lookback: int = 3) -> pd.DataFrame:
    """Short-horizon reversal: minus the log return over the last ``lookback`` bars.

    Economic idea: very short-term price moves are partly liquidity-driven (order-flow imbalance,
    forced liquidations) and are undone as liquidity providers are paid for absorbing the flow.
    """
    return _by_columns(lambda returns: -_trailing_sum(returns, lookback), panel.log_returns)


def low_vol(panel: Panel, *, lookback: int = 168) -> pd.DataFrame:
    """Low-volatility tilt: minus the realised volatility of log returns over ``lookback`` bars.

    Economic idea: leverage-constrained and lottery-seeking investors overpay for volatile coins,
    so low-volatility coins earn higher risk-adjusted (often also raw) returns: the low-risk
    anomaly.
    """
    return _by_columns(
        lambda returns: -returns.rolling(lookback, min_periods=_min_periods(lookback)).std(),
        panel.log_returns,
    )


def low_vol_dispersion(
    panel: Panel,
    *,
    lookback: int = 168,
    dispersion_window: int = 24,
    regime_window: int = 720,
) -> pd.DataFrame:
    """Low-volatility tilt, active only when cross-sectional dispersion is above its norm.

    Economic idea: the low-risk premium is earned when coins move apart (high dispersion: the
    market discriminates between coins, and volatile ones overshoot); in low-dispersion, factor
    driven markets the tilt is mostly a bet against beta. Dispersion at ``t`` is the
    cross-sectional standard deviation of ``dispersion_window``-bar returns; it is "high" when above
    its own trailing median over ``regime_window`` bars. Outside high-dispersion bars the signal is
    NaN (no view).
    """
    base = low_vol(panel, lookback=lookback)
    window_ret = _trailing_sum(panel.log_returns, dispersion_window)
    dispersion = window_ret.std(axis=1)
    norm = dispersion.rolling(regime_window, min_periods=_min_periods(regime_window)).median()
    active = (dispersion > norm).to_numpy()
    out = base.to_numpy(dtype=np.float64, na_value=np.nan).copy()
    out[~active] = np.nan
    return pd.DataFrame(out, index=base.index, columns=base.columns)


def volume_surprise(panel: Panel, *, short: int = 6, lookback: int = 168) -> pd.DataFrame:
    """Volume surprise: log of recent dollar volume relative to its trailing norm.

    Economic idea: abnormal trading activity raises a coin's visibility and draws in new buyers
    (the high-volume return premium of Gervais, Kaniel & Mingelgrin, 2001), so coins with unusually
    high recent volume tend to outperform.
    """
    return _by_columns(
        partial(_volume_surprise, short=short, lookback=lookback), panel.dollar_volume
    )


def _volume_surprise(dollar_volume: pd.DataFrame, *, short: int, lookback: int) -> pd.DataFrame:
    recent = dollar_volume.rolling(short, min_periods=_min_periods(short)).mean()
    norm = dollar_volume.rolling(lookback, min_periods=_min_periods(lookback)).mean()
    return _safe_log(recent) - _safe_log(norm)


def volume_shock(panel: Panel, *, window: int = 24) -> pd.DataFrame:
    """Volume shock: this bar's log volume above the mean log volume of the previous bars.

    Economic idea: a burst of trading in one bar, relative to the coin's own recent activity,
    signals news or order flow that the price has not fully absorbed yet, so the shocked coins
    drift in the next bars (a bar-level version of the volume premium). Unlike
    :func:`volume_surprise` it compares one bar with a full trailing window of ``window`` previous
    bars in logs, and is undefined until that window is complete.
    """
    return _by_columns(partial(_volume_shock, window=window), panel.volume)


def _volume_shock(volume: pd.DataFrame, *, window: int) -> pd.DataFrame:
    log_volume = _safe_log(volume)
    trailing = log_volume.shift(1).rolling(window, min_periods=window).mean()
    return log_volume - trailing


def liquidity_shock_reversion(panel: Panel, *, short: int = 6, lookback: int = 168) -> pd.DataFrame:
    """Reversal of moves made on thin liquidity.

    Economic idea: a price move made while liquidity is unusually thin (Amihud illiquidity
    ``|r| / dollar volume`` spiking above its norm) is more likely transient price pressure than
    information, and reverts (Avramov, Chordia & Goyal, 2006). Score: minus the ``short``-bar return
    times the positive part of the log illiquidity shock; zero when liquidity is normal.
    """
    return _by_columns(
        partial(_liquidity_shock_reversion, short=short, lookback=lookback),
        panel.dollar_volume,
        panel.log_returns,
    )


def _liquidity_shock_reversion(
    dollar_volume: pd.DataFrame, log_returns: pd.DataFrame, *, short: int, lookback: int
) -> pd.DataFrame:
    dv = dollar_volume.to_numpy(dtype=np.float64, na_value=np.nan)
    absret = np.abs(log_returns.to_numpy(dtype=np.float64, na_value=np.nan))
    illiq = np.full(dv.shape, np.nan)
    np.divide(absret, dv, out=illiq, where=dv > 0)
    illiq_frame = pd.DataFrame(illiq, index=dollar_volume.index, columns=dollar_volume.columns)
    recent = illiq_frame.rolling(short, min_periods=_min_periods(short)).mean()
    norm = illiq_frame.rolling(lookback, min_periods=_min_periods(lookback)).mean()
    shock = (_safe_log(recent) - _safe_log(norm)).clip(lower=0.0)
    return -_trailing_sum(log_returns, short) * shock
