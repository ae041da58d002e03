"""Report figures of the whole family as PNG bytes, rendered deterministically.

Each ``build_*`` function returns the matplotlib figure (tests inspect it: legends, colours,
labels); each ``*_figure`` function renders the same figure to PNG bytes. The look is shared
(:mod:`.figure_style`): legends outside the data, at most ``TOP_N`` named series plus a grey
"others" band, distinct colours, units on the axes, display-only downsampling of long series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from crypto_analyzer.pipeline.report.figure_style import (
    OTHERS_COLOUR,
    band,
    colours,
    date_ticks,
    decimate,
    legend_outside,
    new_figure,
    png,
    to_datetimes,
    top_n,
)
from crypto_analyzer.pipeline.report.tearsheet import compounded

__all__ = [
    "build_capacity",
    "build_cumulative_returns",
    "build_ic_decay",
    "build_null_distribution",
    "build_pbo_logits",
    "build_regime_ic",
    "capacity_figure",
    "cumulative_returns_figure",
    "hypothesis_label",
    "ic_decay_figure",
    "null_distribution_figure",
    "pbo_logit_figure",
    "regime_ic_figure",
]


def hypothesis_label(hypothesis: str) -> str:
    """``"volume_shock@4"`` → ``"volume shock, 4-bar horizon"`` (a caption, not an id)."""
    signal, _, horizon = hypothesis.rpartition("@")
    if not signal:
        return hypothesis.replace("_", " ")
    return f"{signal.replace('_', ' ')}, {horizon}-bar horizon"


def build_ic_decay(decay: pd.DataFrame) -> Figure:
    """Mean OOS rank IC by horizon (columns) for each signal (rows): a heatmap, no legend."""
    height = max(2.4, 0.32 * len(decay) + 1.4)
    figure = new_figure(height)
    axis = figure.add_subplot()
    values = decay.to_numpy(dtype=float)
    bound = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.05
    image = axis.imshow(values, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto")
    axis.set_xticks(range(len(decay.columns)), [f"{h} bars" for h in decay.columns])
    axis.set_yticks(range(len(decay)), [str(s).replace("_", " ") for s in decay.index])
    for (row, col), value in np.ndenumerate(values):
        if np.isfinite(value):
            axis.text(col, row, f"{value:+.3f}", ha="center", va="center", fontsize=7)
    axis.set_xlabel("forecast horizon")
    axis.set_title("IC decay: mean out-of-sample rank IC by horizon")
    figure.colorbar(image, ax=axis, label="mean rank IC (unitless, −1…1)")
    return figure


def ic_decay_figure(decay: pd.DataFrame) -> bytes:
    return png(build_ic_decay(decay))


def build_cumulative_returns(returns: pd.DataFrame) -> Figure:
    """Compounded cumulative OOS net return per hypothesis portfolio (top N + "others" band)."""
    figure = new_figure(4.0)
    axis = figure.add_subplot()
    times = to_datetimes(returns.index)
    curves = pd.DataFrame(
        {column: compounded(returns[column].to_numpy(dtype=float)) * 100.0 for column in returns},
        index=times,
    )
    final = curves.iloc[-1] if len(curves) else pd.Series(dtype=float)
    shown, others = top_n(final)
    if others:
        x, low, high = band(times, curves[others].min(axis=1), curves[others].max(axis=1))
        axis.fill_between(x, low, high, color=OTHERS_COLOUR, alpha=0.5, linewidth=0,
                          label=f"{len(others)} others (range)")  # fmt: skip
    for colour, column in zip(colours(len(shown)), shown, strict=True):
        x, y = decimate(times, curves[column].to_numpy())
        axis.plot(x, y, color=colour, linewidth=1.1, label=hypothesis_label(column))
    axis.axhline(0.0, color="grey", linewidth=0.8)
    axis.set_ylabel("cumulative net return, compounded (%)")
    axis.set_xlabel("out-of-sample bar (UTC)")
    axis.set_title("Out-of-sample portfolio returns net of costs, compounded")
    legend_outside(axis)
    date_ticks(axis, times)
    return figure


def cumulative_returns_figure(returns: pd.DataFrame) -> bytes:
    """Compounded cumulative OOS net returns (simple per-bar returns ``r``: ``prod(1+r)-1``)."""
    return png(build_cumulative_returns(returns))


def pbo_logit_figure(logits: Sequence[float] | np.ndarray, pbo: float | None) -> bytes:
    return png(build_pbo_logits(logits, pbo))


def build_pbo_logits(logits: Sequence[float] | np.ndarray, pbo: float | None) -> Figure:
    """Histogram of CSCV logits; mass at or below zero is the probability of overfitting."""
    figure = new_figure(3.4)
    axis = figure.add_subplot()
    values = np.asarray(logits, dtype=float)
    values = values[np.isfinite(values)]
    if values.size:
        axis.hist(values, bins=40, color="#1f77b4")
    axis.axvline(0.0, color="#d62728", linewidth=1.0)
    title = "CSCV logit distribution" + (f" (PBO = {pbo:.3f})" if pbo is not None else "")
    axis.set_title(title)
    axis.set_xlabel("logit of the OOS rank of the in-sample best configuration")
    axis.set_ylabel("CSCV splits (count)")
    return figure


def null_distribution_figure(null: Sequence[float], observed: float | None, label: str) -> bytes:
    return png(build_null_distribution(null, observed, label))


def build_null_distribution(null: Sequence[float], observed: float | None, label: str) -> Figure:
    """Bootstrap null distribution of a family statistic with the observed value marked."""
    figure = new_figure(3.4)
    axis = figure.add_subplot()
    values = np.asarray(null, dtype=float)
    values = values[np.isfinite(values)]
    if values.size:
        axis.hist(values, bins=50, color="#2ca02c", label="bootstrap null")
    if observed is not None and np.isfinite(observed):
        axis.axvline(observed, color="#d62728", linewidth=1.2, label="observed")
    axis.set_title(f"{label}: bootstrap null distribution of the max statistic")
    axis.set_xlabel("max over the family of the studentised mean IC")
    axis.set_ylabel("bootstrap draws (count)")
    legend_outside(axis)
    return figure


def build_capacity(curves: Mapping[str, pd.DataFrame]) -> Figure:
    """Net Sharpe against capital per hypothesis (columns ``capital``, ``net_sharpe``)."""
    figure = new_figure(3.8)
    axis = figure.add_subplot()
    scores = pd.Series(
        {
            name: float(np.nanmax(c["net_sharpe"].to_numpy(dtype=float), initial=-np.inf))
            for name, c in curves.items()
        }
    )
    shown, others = top_n(scores.replace(-np.inf, np.nan))
    for index, name in enumerate(others):
        curve = curves[name]
        axis.plot(curve["capital"].to_numpy(dtype=float), curve["net_sharpe"].to_numpy(dtype=float),
                  color=OTHERS_COLOUR, linewidth=0.8,
                  label=f"{len(others)} others" if index == 0 else None)  # fmt: skip
    for colour, name in zip(colours(len(shown)), shown, strict=True):
        curve = curves[name]
        axis.plot(curve["capital"].to_numpy(dtype=float), curve["net_sharpe"].to_numpy(dtype=float),
                  marker="o", color=colour, label=hypothesis_label(name))  # fmt: skip
    axis.set_xscale("log")
    axis.axhline(0.0, color="grey", linewidth=0.8)
    axis.set_xlabel("capital (USD, log scale)")
    axis.set_ylabel("net Sharpe (annualised)")
    axis.set_title("Capacity: net Sharpe as the book grows")
    legend_outside(axis)
    return figure


def capacity_figure(curves: Mapping[str, pd.DataFrame]) -> bytes:
    return png(build_capacity(curves))


def build_regime_ic(table: pd.DataFrame) -> Figure:
    """Mean OOS IC per regime (columns) for each hypothesis (rows): small multiples, one per regime.

    One panel per regime (≤ 10 regimes), hypotheses on the shared y axis: no legend at all.
    """
    regimes = list(table.columns)
    height = max(2.6, 0.22 * len(table) + 1.4)
    figure = new_figure(height)
    axes = figure.subplots(1, max(len(regimes), 1), sharey=True, squeeze=False)[0]
    positions = np.arange(len(table), dtype=float)
    for axis, colour, regime in zip(axes, colours(len(regimes)), regimes, strict=False):
        axis.barh(positions, table[regime].to_numpy(dtype=float), color=colour, height=0.7)
        axis.axvline(0.0, color="grey", linewidth=0.8)
        axis.set_title(f"regime {regime}", fontsize=8)
        axis.set_xlabel("mean OOS IC", fontsize=7)
        axis.tick_params(labelsize=7)
    axes[0].set_yticks(positions, [hypothesis_label(str(name)) for name in table.index])
    axes[0].invert_yaxis()
    figure.suptitle("Regime-conditioned OOS IC (regimes fitted on train rows only)", fontsize=10)
    return figure


def regime_ic_figure(table: pd.DataFrame) -> bytes:
    return png(build_regime_ic(table))
