"""Signal to portfolio: long-short weights, one-bar execution lag, turnover and trading costs.

An IC says a signal ranks assets; whether it survives trading depends on how much it trades and
where. Weights decided at the close of bar ``t`` (from data at or before ``t``) are held from
``t + lag`` on, so no bar's return is earned by a decision that used it. Costs are charged on every
change of the held weights: fees and half the spread on the traded notional, plus market impact
that grows with participation (traded notional over the bar's dollar volume) as
``impact_coef * participation ** impact_exponent`` per unit traded (the square-root law for
``impact_exponent = 0.5``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.core.row_blocks import is_column_major, row_blocks, rows_like
from crypto_analyzer.research._checks import (
    as_float_array,
    check_aligned,
    check_choice,
    check_float,
    check_frame,
    check_int,
)
from crypto_analyzer.research._holding import hold_rebalances, target_blocks
from crypto_analyzer.research.panel import Panel

__all__ = [
    "BacktestResult",
    "CostModel",
    "active_portfolio_weights",
    "annualised_sharpe",
    "backtest",
    "bars_per_year",
    "portfolio_weights",
]

_MS_PER_YEAR = 365.25 * 24 * 3600 * 1000


def bars_per_year(bar_ms: int) -> float:
    """Bars per (365.25-day) year, for annualising; crypto trades around the clock."""
    return _MS_PER_YEAR / check_int("bar_ms", bar_ms, minimum=1)


@dataclass(frozen=True, slots=True)
class CostModel:
    """Trading cost assumptions, all per unit of traded notional.

    Attributes
    ----------
    fee_bps : float
        Exchange fee in basis points.
    half_spread_bps : float
        Half the quoted spread (crossing cost) in basis points; slippage beyond impact goes here.
    impact_coef : float
        Impact cost at 100 % participation, as a fraction of traded notional.
    impact_exponent : float
        Curvature of impact in participation (0.5 = square-root law, 1 = linear).
    """

    fee_bps: float = 10.0
    half_spread_bps: float = 5.0
    impact_coef: float = 0.1
    impact_exponent: float = 0.5

    def __post_init__(self) -> None:
        check_float("fee_bps", self.fee_bps, minimum=0.0)
        check_float("half_spread_bps", self.half_spread_bps, minimum=0.0)
        check_float("impact_coef", self.impact_coef, minimum=0.0)
        check_float("impact_exponent", self.impact_exponent, minimum=0.0, maximum=2.0)

    @property
    def linear_rate(self) -> float:
        """Fee plus half spread as a fraction of notional."""
        return (self.fee_bps + self.half_spread_bps) * 1e-4

    def to_dict(self) -> dict[str, float]:
        """Canonical-JSON-able settings."""
        return asdict(self)


def _weights_iv(
    signal: Any,
    method: Any,
    k: Any,
    rebalance_every: Any,
    ema_halflife: Any,
    gross: Any,
    *,
    allow_inf: bool = False,
) -> tuple[str, int | None, int, float | None, float]:
    check_frame("signal", signal, allow_inf=allow_inf)
    method = check_choice("method", method, ("top_bottom_k", "signal"))
    if method == "top_bottom_k":
        k = check_int("k", k, minimum=1)
    elif k is not None:
        raise ValueError(f"k applies to method='top_bottom_k' only, got {k!r}")
    rebalance_every = check_int("rebalance_every", rebalance_every, minimum=1)
    if ema_halflife is not None:
        ema_halflife = check_float("ema_halflife", ema_halflife, minimum=0.0, strict_min=True)
    gross = check_float("gross", gross, minimum=0.0, strict_min=True)
    return method, k, rebalance_every, ema_halflife, gross


def portfolio_weights(
    signal: pd.DataFrame,
    *,
    method: str = "top_bottom_k",
    k: int | None = 5,
    rebalance_every: int = 1,
    ema_halflife: float | None = None,
    gross: float = 1.0,
) -> pd.DataFrame:
    """Dollar-neutral target weights decided at each bar from the signal at that bar.

    Parameters
    ----------
    signal : pandas.DataFrame
        Time x asset; NaN = asset not investable at that bar.
    method : {"top_bottom_k", "signal"}
        ``top_bottom_k``: equal weights ``gross / (2k)`` long the ``k`` highest and short the ``k``
        lowest (ties broken by column order; flat when fewer than ``2k`` assets). ``signal``:
        weights proportional to the cross-sectionally demeaned signal, scaled to ``gross``.
    k : int
        Names per side for ``top_bottom_k``.
    rebalance_every : int
        Targets change only on rows ``0, N, 2N, ...`` and are held in between.
    ema_halflife : float, optional
        Exponential smoothing of targets (in bars) before rebalancing, to cut turnover; uses past
        targets only. Smoothing keeps dollar neutrality but can lower gross exposure.
    gross : float
        Sum of absolute weights of a fresh target.

    Returns
    -------
    pandas.DataFrame
        Target weights (0 where not held). Apply with :func:`backtest`, which adds the lag.
    """
    checked = _weights_iv(signal, method, k, rebalance_every, ema_halflife, gross)
    return _weights(signal, as_float_array(signal), None, *checked)


def _active_iv(signal: Any, active: Any) -> np.ndarray:
    if not isinstance(active, np.ndarray) or active.dtype != np.bool_ or active.ndim != 1:
        raise TypeError(f"active must be a 1-D boolean numpy array, got {type(active).__name__}")
    if isinstance(signal, pd.DataFrame) and len(active) != len(signal):
        raise ValueError(f"active has {len(active)} entries but the signal has {len(signal)} rows")
    return active


def active_portfolio_weights(
    signal: pd.DataFrame,
    active: np.ndarray,
    *,
    method: str = "top_bottom_k",
    k: int | None = 5,
    rebalance_every: int = 1,
    ema_halflife: float | None = None,
    gross: float = 1.0,
) -> pd.DataFrame:
    """:func:`portfolio_weights` of ``signal`` with the rows outside ``active`` set to NaN.

    A report trades its test rows only: the rows outside them get no target (flat), yet still
    count for the rebalance schedule and the smoothing. This gives the bits of
    ``portfolio_weights(signal.where(active))`` without that panel-sized masked copy: each row
    block is masked as it is read. +/-inf is refused on active rows only, as the masked frame's
    check would.

    Parameters
    ----------
    signal : pandas.DataFrame
        Time x asset, as for :func:`portfolio_weights`.
    active : numpy.ndarray
        Boolean, one entry per row of ``signal``.
    method, k, rebalance_every, ema_halflife, gross
        As for :func:`portfolio_weights`.
    """
    active = _active_iv(signal, active)
    checked = _weights_iv(signal, method, k, rebalance_every, ema_halflife, gross, allow_inf=True)
    values = signal.to_numpy(dtype=np.float64, na_value=np.nan)
    return _weights(signal, values, active, *checked)


def _weights(
    signal: pd.DataFrame,
    values: np.ndarray,
    active: np.ndarray | None,
    method: str,
    k: int | None,
    rebalance_every: int,
    halflife: float | None,
    gross: float,
) -> pd.DataFrame:
    """The weights, built a block of rows at a time into one array (see :mod:`._holding`).

    The result is laid out as the whole-frame steps laid it out: column-major (a pandas copy of
    the targets, or the EMA of them) unless held between rebalances, row-major after the hold.
    """
    kernel = partial(_target_rows, method=method, k=k, gross=gross)
    blocks = target_blocks(values, kernel, active)
    if halflife is None and rebalance_every > 1:
        held = hold_rebalances(np.empty(values.shape, order="C"), blocks, rebalance_every)
        return _frame(held, signal)
    target = np.empty(values.shape, order="F")
    for rows, part in blocks:
        target[rows] = part
    out = _frame(target, signal)
    if halflife is None:
        return out
    del target
    out = out.ewm(halflife=halflife, adjust=False).mean()
    if rebalance_every == 1:
        return out
    smoothed = out.to_numpy(dtype=np.float64)
    row_parts = ((rows, smoothed[rows]) for rows in row_blocks(*smoothed.shape))
    held = hold_rebalances(np.empty(smoothed.shape, order="C"), row_parts, rebalance_every)
    return _frame(held, signal)


def _frame(values: np.ndarray, like: pd.DataFrame) -> pd.DataFrame:
    """``values`` as a frame shaped like ``like``, without a copy (so in ``values``' order)."""
    return pd.DataFrame(values, index=like.index, columns=like.columns, copy=False)


def _target_rows(arr: np.ndarray, *, method: str, k: int | None, gross: float) -> np.ndarray:
    """Fresh target weights of the rows of ``arr`` (see :func:`portfolio_weights`)."""
    valid = ~np.isnan(arr)
    n = valid.sum(axis=1)
    if method == "top_bottom_k":
        assert k is not None  # _weights_iv checked it is an int for this method
        filled = np.where(valid, arr, np.inf)
        order = np.argsort(filled, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(arr.shape[1])[None, :], axis=1)
        long = valid & (rank >= (n - k)[:, None])
        short = valid & (rank < k)
        w = (long.astype(float) - short.astype(float)) * (gross / (2 * k))
        w[n < 2 * k] = 0.0
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(valid, arr, 0.0).sum(axis=1) / n
            dev = np.where(valid, arr - mean[:, None], 0.0)
            scale = np.abs(dev).sum(axis=1)
            w = np.where(scale[:, None] > 0, dev * gross / scale[:, None], 0.0)
    return w


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Per-bar P&L decomposition of a weights path at one AUM.

    Attributes
    ----------
    bars : pandas.DataFrame
        Columns ``gross, cost, net, turnover, max_participation, trades_without_volume`` per bar
        (returns as fractions of AUM; turnover = sum of absolute weight changes). A trade in an
        asset with no known dollar volume pays the linear cost only and is counted in
        ``trades_without_volume`` so the gap is visible rather than priced by a guess.
    aum : float
    lag : int
    cost_model : CostModel
    bars_per_year : float
    """

    bars: pd.DataFrame
    aum: float
    lag: int
    cost_model: CostModel
    bars_per_year: float

    def sharpe(self, column: str = "net") -> float | None:
        """Annualised Sharpe ratio of a return column; None when undefined."""
        return annualised_sharpe(self.bars[column].to_numpy(), self.bars_per_year)


def _annualised_sharpe_iv(returns: Any, per_year: Any) -> None:
    if not isinstance(returns, np.ndarray) or returns.ndim != 1:
        raise TypeError(f"returns must be a 1-D numpy array, got {type(returns).__name__}")
    check_float("per_year", per_year, minimum=0.0, strict_min=True)


def annualised_sharpe(returns: np.ndarray, per_year: float) -> float | None:
    """``mean / std * sqrt(per_year)`` (``ddof=1``); None for fewer than 2 values or zero std.

    Non-finite entries are ignored.
    """
    _annualised_sharpe_iv(returns, per_year)
    vals = returns[np.isfinite(returns)]
    if vals.size < 2:
        return None
    std = float(vals.std(ddof=1))
    return None if std <= 0 else float(vals.mean() / std * np.sqrt(per_year))


def _backtest_iv(weights: Any, panel: Any, cost_model: Any, aum: Any, lag: Any) -> tuple[Any, ...]:
    if not isinstance(panel, Panel):
        raise TypeError(f"panel must be a Panel, got {type(panel).__name__}")
    check_frame("weights", weights)
    check_aligned("weights", weights, "panel.close", panel.close)
    if weights.isna().to_numpy().any():
        raise ValueError("weights contains NaN; use 0 for assets not held")
    if not isinstance(cost_model, CostModel):
        raise TypeError(f"cost_model must be a CostModel, got {type(cost_model).__name__}")
    aum = check_float("aum", aum, minimum=0.0, strict_min=True)
    return aum, check_int("lag", lag, minimum=1)


TradeBlock = tuple[slice, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _trade_blocks(weights: pd.DataFrame, panel: Panel, lag: int) -> Iterator[TradeBlock]:
    """Held weights, simple returns, absolute trades and trade-bar dollar volume, by row block.

    Held weights are the targets shifted by ``lag``. A missing asset return counts as 0. Dollar
    volume for a bar without a print carries the last known value forward (never backward).
    Yields ``(rows, held, rets, trades, dv)``.

    Every per-bar figure of a backtest is a sum over its own row, so a block of rows is enough;
    each block's arrays hold exactly the values (and have the memory order) of the same rows of
    the whole arrays, so the per-row sums have the same bits. A block reaches back ``lag + 1``
    rows for the held weights and trades, and carries the last known dollar volume forward.
    """
    target = weights.to_numpy(dtype=np.float64)
    log_returns = panel.log_returns.to_numpy(dtype=np.float64)
    n_rows, n_cols = target.shape
    carry: pd.DataFrame | None = None
    for rows in row_blocks(n_rows, n_cols):
        first = max(rows.start - 1, 0)  # one row above the block for the trades
        held = np.zeros_like(target[first : rows.stop])  # laid out as the whole target is
        source = slice(max(first - lag, 0), max(rows.stop - lag, 0))
        if source.stop > source.start:
            held[held.shape[0] - (source.stop - source.start) :] = target[source]
        if rows.start == 0:
            trades = np.abs(np.diff(held, axis=0, prepend=0.0))
        else:
            trades = np.abs(np.diff(held, axis=0))
            held = np.asarray(held[1:], order="F" if is_column_major(held) else "C")
        rets = np.expm1(np.nan_to_num(rows_like(log_returns, rows), nan=0.0))
        volume = panel.dollar_volume.iloc[rows]
        if carry is not None:
            volume = pd.concat([carry, volume])
        filled = volume.ffill()
        carry = filled.iloc[-1:]
        dv = filled.to_numpy(dtype=np.float64, na_value=np.nan)
        if rows.start > 0:
            dv = rows_like(dv, slice(1, None))
        yield rows, held, rets, trades, dv


def backtest(
    weights: pd.DataFrame,
    panel: Panel,
    *,
    cost_model: CostModel,
    aum: float = 1e6,
    lag: int = 1,
) -> BacktestResult:
    """Gross and net returns of a target-weights path held with an execution lag.

    The position held over bar ``t`` is the target decided at ``t - lag``; its return is
    ``sum_j h_{t,j} R_{t,j}`` with ``R`` the simple return of bar ``t``. Trading from ``h_{t-1}`` to
    ``h_t`` happens in bar ``t`` and costs, per asset,
    ``|dh| * (linear_rate + impact_coef * participation ** impact_exponent)`` with
    ``participation = |dh| * aum / dollar_volume_t``. Weight drift between rebalances is ignored
    (targets are treated as held exactly), a standard simplification at bar frequency.

    Returns
    -------
    BacktestResult
    """
    aum, lag = _backtest_iv(weights, panel, cost_model, aum, lag)
    n_rows = weights.shape[0]
    gross, cost, turnover = np.empty(n_rows), np.empty(n_rows), np.empty(n_rows)
    max_part, no_volume_count = np.empty(n_rows), np.empty(n_rows, dtype=np.int64)
    # Block by block (panel-sized temporaries would be several grids per hypothesis and AUM).
    for rows, held, rets, trades, dv in _trade_blocks(weights, panel, lag):
        gross[rows] = (held * rets).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            part = np.where(trades > 0, trades * aum / dv, 0.0)
        no_volume = (trades > 0) & ~np.isfinite(part)
        part = np.where(no_volume, 0.0, part)
        impact = cost_model.impact_coef * np.power(part, cost_model.impact_exponent)
        cost[rows] = (trades * (cost_model.linear_rate + impact)).sum(axis=1)
        turnover[rows] = trades.sum(axis=1)
        max_part[rows] = part.max(axis=1, initial=0.0)
        no_volume_count[rows] = no_volume.sum(axis=1)
    bars = pd.DataFrame(
        {
            "gross": gross,
            "cost": cost,
            "net": gross - cost,
            "turnover": turnover,
            "max_participation": max_part,
            "trades_without_volume": no_volume_count,
        },
        index=weights.index,
    )
    return BacktestResult(bars, aum, lag, cost_model, panel.periods_per_year)
