"""Tear-sheet numbers of one hypothesis: quantiles, spread, rank autocorrelation, costs, drawdown.

These are the views a quant expects from an alphalens tear sheet, computed here from the run's own
data (our signal, our forward returns, our backtest) so every number traces to the run; alphalens
stays a test oracle (``tests/unit/report/test_tearsheet_oracle.py``). They describe a hypothesis;
none of them is evidence governance judges, so they never enter the bundle or the run metrics.

Conventions (stated in the captions as well):

* Quantiles are cut per bar over the assets with both a signal value and a forward return, by the
  values' empirical quantiles (right-closed bins, the lowest edge included) — ``pandas.qcut``'s
  rule, computed for all bars at once. Quantile 1 holds the lowest signal values.
* Mean forward return by quantile is *demeaned*: each bar's cross-sectional mean is subtracted
  first (alphalens' tear-sheet default), so the quantiles show relative, not market, returns;
  it is the mean over bars of each bar's quantile mean, as alphalens averages.
* Cumulative returns are **compounded** simple returns, ``prod(1 + r) - 1``, never a sum of logs.
* Only out-of-sample (test-block) bars enter; the signal at bar ``t`` is paired with the forward
  return that starts at ``t``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.core.memory import release_free_memory
from crypto_analyzer.core.row_blocks import row_blocks, rows_like
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.stages import (
    Key,
    PortfolioStage,
    PreparedData,
    hypothesis_id,
)
from crypto_analyzer.research import CostModel, forward_returns

__all__ = [
    "N_QUANTILES",
    "TearSheet",
    "compounded",
    "drawdown",
    "mean_by_quantile",
    "quantile_labels",
    "quantile_mean_returns",
    "rank_autocorrelation",
    "rolling_window",
    "tear_sheet",
    "tearsheet_stage",
]

N_QUANTILES = 5
"""Quantiles per bar (fewer when the cross-section is smaller than twice this)."""


def quantile_labels(signal: np.ndarray, valid: np.ndarray, n_quantiles: int) -> np.ndarray:
    """Per-row quantile label 0..n-1 (``-1`` where not valid), as ``pandas.qcut`` would cut.

    Edges are the row's linear-interpolated quantiles of the valid values; a value ``x`` gets the
    number of inner edges strictly below it (bins ``(e_k, e_k+1]``, the lowest edge included).
    """
    values = np.where(valid, signal, np.nan)
    labels = np.full(values.shape, -1, dtype=np.int64)
    if values.size == 0:
        return labels
    ordered = np.sort(values, axis=1)  # NaN last
    count = valid.sum(axis=1)
    probs = np.linspace(0.0, 1.0, n_quantiles + 1)[1:-1]
    # numpy's "linear" quantile: position (n - 1) * p between the sorted values
    position = np.clip((count[:, None] - 1) * probs[None, :], 0.0, None)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, np.maximum(count[:, None] - 1, 0))
    low = np.take_along_axis(ordered, below, axis=1)
    high = np.take_along_axis(ordered, above, axis=1)
    edges = low + (high - low) * (position - below)
    inner = (values[:, :, None] > edges[:, None, :]).sum(axis=2)
    return np.where(valid & (count[:, None] > 0), inner, -1)


def quantile_mean_returns(
    forward: np.ndarray, labels: np.ndarray, n_quantiles: int, *, demean: bool
) -> np.ndarray:
    """Rows x quantiles: mean forward return of each quantile per bar (NaN where empty)."""
    valid = labels >= 0
    fwd = np.where(valid, forward, 0.0)
    if demean:
        count = valid.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            centre = fwd.sum(axis=1) / count
        fwd = np.where(valid, fwd - centre[:, None], 0.0)
    out = np.full((labels.shape[0], n_quantiles), np.nan)
    for q in range(n_quantiles):
        member = labels == q
        n = member.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, q] = np.where(n > 0, (fwd * member).sum(axis=1) / n, np.nan)
    return out


def mean_by_quantile(
    forward: np.ndarray, labels: np.ndarray, n_quantiles: int, *, demean: bool
) -> np.ndarray:
    """Mean over bars of each quantile's per-bar mean forward return (alphalens' averaging)."""
    return _mean_over_bars(quantile_mean_returns(forward, labels, n_quantiles, demean=demean))


def _mean_over_bars(per_bar: np.ndarray) -> np.ndarray:
    """Column means of a bars x quantiles array over its finite entries (NaN where none)."""
    n_quantiles = per_bar.shape[1]
    out = np.full(n_quantiles, np.nan)
    for q in range(n_quantiles):
        column = per_bar[:, q]
        if np.isfinite(column).any():
            out[q] = float(np.nanmean(column))
    return out


def rank_autocorrelation(signal: pd.DataFrame, lag: int) -> pd.Series:
    """Per bar: Pearson correlation of the cross-sectional ranks at ``t`` and ``t - lag``.

    Ranks are average ranks over the assets with a value at that bar; the correlation uses the
    assets with a value at both bars (alphalens' ``factor_rank_autocorrelation``).
    """
    corr = _blocked_rank_autocorrelation(signal, lag)
    return pd.Series(corr, index=signal.index, name="rank_autocorrelation")


def _blocked_rank_autocorrelation(signal: pd.DataFrame, lag: int) -> np.ndarray:
    """:func:`rank_autocorrelation`'s values, a block of rows at a time.

    Each block ranks its own rows and the ``lag`` rows before them, so the whole-panel rank
    array and its shifted copy (several panel-sized temporaries) never exist; the values are
    those of the whole-panel computation (``tests/unit/core/test_row_blocks.py``)."""
    n_rows, n_cols = signal.shape
    out = np.empty(n_rows)
    for rows in row_blocks(n_rows, n_cols):
        first = max(0, rows.start - lag)
        extended = signal.iloc[first : rows.stop].rank(axis=1).to_numpy(dtype=float)
        ranks = rows_like(extended, slice(rows.start - first, None))
        before = np.full_like(ranks, np.nan)
        skip = max(0, lag - rows.start)  # leading rows of the block with no row ``lag`` back
        if skip < len(ranks):
            before[skip:] = extended[rows.start + skip - lag - first : rows.stop - lag - first]
        out[rows] = _rank_pair_correlation(ranks, before)
    return out


def _rank_pair_correlation(ranks: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Per row: Pearson correlation of ``ranks`` and ``before`` over entries finite in both."""
    both = np.isfinite(ranks) & np.isfinite(before)
    n = both.sum(axis=1)
    a = np.where(both, ranks, 0.0)
    b = np.where(both, before, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma, mb = a.sum(axis=1) / n, b.sum(axis=1) / n
        da = np.where(both, a - ma[:, None], 0.0)
        db = np.where(both, b - mb[:, None], 0.0)
        corr = (da * db).sum(axis=1) / np.sqrt((da * da).sum(axis=1) * (db * db).sum(axis=1))
    return np.where(n >= 3, corr, np.nan)


def compounded(returns: np.ndarray) -> np.ndarray:
    """Cumulative compounded return ``prod(1 + r) - 1`` (missing returns count as 0)."""
    return np.cumprod(1.0 + np.nan_to_num(np.asarray(returns, dtype=float), nan=0.0)) - 1.0


def drawdown(returns: np.ndarray) -> np.ndarray:
    """Drawdown of the compounded wealth from its running peak (0 at a peak, -0.2 = 20 % down)."""
    wealth = 1.0 + compounded(returns)
    peak = np.maximum.accumulate(np.maximum(wealth, 1.0))
    return wealth / peak - 1.0


def rolling_window(bar_ms: int, n_obs: int) -> int:
    """About 30 days of bars, at least 5 and at most a quarter of the sample."""
    month = max(1, int(30 * 86_400_000 // max(bar_ms, 1)))
    return int(max(5, min(month, max(n_obs // 4, 5))))


@dataclass(frozen=True)
class TearSheet:
    """Everything the tear sheet of one hypothesis shows, on out-of-sample bars."""

    hypothesis: str
    n_quantiles: int
    quantile_mean: np.ndarray
    """Mean demeaned forward return (over the horizon) per quantile."""
    series: pd.DataFrame
    """Per OOS bar: ``q1..qn`` 1-bar quantile returns, ``spread``, ``rank_autocorr``,
    ``turnover``, ``gross``, ``net``, ``cost_fees_spread``, ``cost_impact``."""
    rolling: int

    def summary(self) -> dict[str, Any]:
        """Headline numbers (canonical-JSON values) for ``stats/tearsheet.json``."""
        s = self.series

        def mean(column: str) -> float | None:
            value = float(np.nanmean(s[column])) if s[column].notna().any() else None
            return None if value is None or not np.isfinite(value) else value

        def total(column: str) -> float | None:
            return float(compounded(s[column].to_numpy())[-1]) if len(s) else None

        def worst(column: str) -> float | None:
            return float(drawdown(s[column].to_numpy()).min()) if len(s) else None

        return {
            "cost_fees_spread_mean": mean("cost_fees_spread"),
            "cost_impact_mean": mean("cost_impact"),
            "gross_compounded": total("gross"),
            "max_drawdown_net": worst("net"),
            "n_bars": len(s),
            "n_quantiles": self.n_quantiles,
            "net_compounded": total("net"),
            "quantile_mean_forward_return": [
                None if not np.isfinite(v) else float(v) for v in self.quantile_mean
            ],
            "rank_autocorrelation_mean": mean("rank_autocorr"),
            "rolling_window": self.rolling,
            "spread_mean": mean("spread"),
            "turnover_mean": mean("turnover"),
        }


def tear_sheet(
    hypothesis: str,
    *,
    signal: pd.DataFrame,
    forward_h: pd.DataFrame,
    forward_1: pd.DataFrame,
    in_test: np.ndarray,
    horizon: int,
    bars: pd.DataFrame,
    linear_rate: float,
    bar_ms: int,
) -> TearSheet:
    """The tear sheet of one (signal, horizon) from its signal, forward returns and backtest bars.

    ``forward_h``/``forward_1`` are *simple* forward returns over the horizon and over one bar;
    ``bars`` are the backtest's per-bar ``gross``/``cost``/``net``/``turnover`` on the test rows.
    """
    # Every per-bar quantity is a function of its own row, so the panel is processed a block of
    # rows at a time: the labels, masks and products below are block-sized, not panel-sized.
    sig = signal.to_numpy(dtype=float)
    fwd_h = forward_h.to_numpy(dtype=float)
    fwd_1 = forward_1.to_numpy(dtype=float)
    n_rows, n_cols = sig.shape
    widths = np.empty(n_rows, dtype=np.int64)
    for rows in row_blocks(n_rows, n_cols):
        part = rows_like(sig, rows)
        widths[rows] = (np.isfinite(part) & np.isfinite(rows_like(fwd_1, rows))).sum(axis=1)
    width = int(np.median(widths[in_test])) if in_test.any() else 0
    n_q = max(2, min(N_QUANTILES, width // 2))
    demeaned = np.full((n_rows, n_q), np.nan)
    by_q_1 = np.full((n_rows, n_q), np.nan)
    raw_h = np.full((n_rows, n_q), np.nan)
    for rows in row_blocks(n_rows, n_cols):
        part, part_h, part_1 = rows_like(sig, rows), rows_like(fwd_h, rows), rows_like(fwd_1, rows)
        labels_h = quantile_labels(part, np.isfinite(part) & np.isfinite(part_h), n_q)
        labels_1 = quantile_labels(part, np.isfinite(part) & np.isfinite(part_1), n_q)
        test_labels_h = np.where(in_test[rows][:, None], labels_h, -1)
        demeaned[rows] = quantile_mean_returns(part_h, test_labels_h, n_q, demean=True)
        by_q_1[rows] = quantile_mean_returns(part_1, labels_1, n_q, demean=False)
        raw_h[rows] = quantile_mean_returns(part_h, labels_h, n_q, demean=False)
    quantile_mean = _mean_over_bars(demeaned)
    by_q_1, raw_h = by_q_1[in_test], raw_h[in_test]
    times = signal.index[in_test]
    frame = pd.DataFrame({f"q{q + 1}": by_q_1[:, q] for q in range(n_q)}, index=times)
    frame["spread"] = raw_h[:, n_q - 1] - raw_h[:, 0]
    frame["rank_autocorr"] = _blocked_rank_autocorrelation(signal, horizon)[in_test]
    test_bars = bars.reindex(times)
    frame["turnover"] = test_bars["turnover"].to_numpy(dtype=float)
    frame["gross"] = test_bars["gross"].to_numpy(dtype=float)
    frame["net"] = test_bars["net"].to_numpy(dtype=float)
    fees = frame["turnover"] * linear_rate
    frame["cost_fees_spread"] = fees
    frame["cost_impact"] = test_bars["cost"].to_numpy(dtype=float) - fees
    frame.index.name = "bar_open_ms"
    return TearSheet(hypothesis, n_q, quantile_mean, frame, rolling_window(bar_ms, len(frame)))


def tearsheet_stage(
    prepared: PreparedData,
    signals: Mapping[str, pd.DataFrame],
    portfolios: PortfolioStage,
    config: ReportConfig,
    keys: Sequence[Key],
) -> dict[Key, TearSheet]:
    """One tear sheet per (signal, horizon), from the same signals and backtests as the report."""
    panel = prepared.panel
    horizons = sorted({1, *(h for _, h in keys)})
    forwards = forward_returns(panel, horizons=horizons, kind="simple")
    linear_rate = CostModel(**config.costs.model_dump()).linear_rate
    bars = portfolios.bars or {}
    out: dict[Key, TearSheet] = {}
    for signal, horizon in keys:
        release_free_memory()  # the last tear sheet's blocks
        out[(signal, horizon)] = tear_sheet(
            hypothesis_id(signal, horizon),
            signal=signals[signal],
            forward_h=forwards[horizon],
            forward_1=forwards[1],
            in_test=prepared.in_test,
            horizon=horizon,
            bars=bars[(signal, horizon)],
            linear_rate=linear_rate,
            bar_ms=panel.bar_ms,
        )
    return out
