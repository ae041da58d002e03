"""The tear-sheet figure of one hypothesis: the alphalens views on one page, from our numbers.

Panels, top to bottom: IC over time with its rolling mean; IC histogram and normal QQ plot;
monthly mean IC heatmap and mean (demeaned) forward return by quantile; compounded cumulative
return per quantile; top-minus-bottom spread and factor rank autocorrelation; gross vs net
compounded return with cumulative costs by kind; drawdown and turnover. Only full-width panels
carry a legend, placed right of the data; half-width panels say what they draw in their titles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy.special import ndtri

from crypto_analyzer.pipeline.report.figure_style import (
    colours,
    date_ticks,
    decimate,
    legend_outside,
    new_figure,
    png,
    to_datetimes,
)
from crypto_analyzer.pipeline.report.figures import hypothesis_label
from crypto_analyzer.pipeline.report.tearsheet import TearSheet, compounded, drawdown

__all__ = ["build_tearsheet", "tearsheet_figure"]

_BPS = 1e4
_PCT = 100.0
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def build_tearsheet(sheet: TearSheet, ic: pd.Series) -> Figure:
    """One figure with every tear-sheet panel of ``sheet``; ``ic`` is its OOS IC series."""
    figure = new_figure(17.0, constrained=False)
    # Fixed margins: the right 22 % holds the legends of the full-width panels.
    grid = figure.add_gridspec(7, 2, left=0.07, right=0.78, top=0.955, bottom=0.03,
                               hspace=0.6, wspace=0.5)  # fmt: skip
    series = sheet.series
    times = to_datetimes(series.index)
    values = ic.dropna()
    window = sheet.rolling
    name = hypothesis_label(sheet.hypothesis)
    figure.suptitle(f"Tear sheet: {name} (out-of-sample bars only)", fontsize=11)

    _ic_over_time(figure.add_subplot(grid[0, :]), values, window)
    _ic_histogram(figure.add_subplot(grid[1, 0]), values)
    _ic_qq(figure.add_subplot(grid[1, 1]), values)
    _monthly_ic(figure, figure.add_subplot(grid[2, 0]), values)
    _quantile_bars(figure.add_subplot(grid[2, 1]), sheet)
    _quantile_cumulative(figure.add_subplot(grid[3, :]), sheet, times)
    _spread(figure.add_subplot(grid[4, 0]), series["spread"], times, window)
    _rank_autocorrelation(figure.add_subplot(grid[4, 1]), series["rank_autocorr"], times)
    _gross_net(figure.add_subplot(grid[5, :]), series, times)
    _drawdown(figure.add_subplot(grid[6, 0]), series["net"], times)
    _turnover(figure.add_subplot(grid[6, 1]), series["turnover"], times, window)
    return figure


def tearsheet_figure(sheet: TearSheet, ic: pd.Series) -> bytes:
    return png(build_tearsheet(sheet, ic))


def _line(axis: Axes, times: pd.DatetimeIndex, values: np.ndarray, **style: object) -> None:
    x, y = decimate(times, np.asarray(values, dtype=float))
    axis.plot(x, y, **style)  # type: ignore[arg-type]


def _time_axis(axis: Axes, times: pd.DatetimeIndex) -> None:
    date_ticks(axis, times, count=4)
    axis.tick_params(axis="x", labelsize=7)
    axis.tick_params(axis="y", labelsize=7)


def _ic_over_time(axis: Axes, ic: pd.Series, window: int) -> None:
    times = to_datetimes(ic.index)
    rolling = ic.rolling(window, min_periods=max(2, window // 2)).mean()
    first, second = colours(2)
    _line(axis, times, ic.to_numpy(), color=first, linewidth=0.5, alpha=0.6, label="IC per bar")
    _line(axis, times, rolling.to_numpy(), color=second, linewidth=1.4,
          label=f"rolling mean ({window} bars)")  # fmt: skip
    axis.axhline(0.0, color="grey", linewidth=0.8)
    mean = float(ic.mean()) if len(ic) else float("nan")
    axis.set_title(f"Rank IC over time (mean {mean:+.4f})", fontsize=9)
    axis.set_ylabel("rank IC (unitless)", fontsize=8)
    _time_axis(axis, times)
    legend_outside(axis)


def _ic_histogram(axis: Axes, ic: pd.Series) -> None:
    (colour,) = colours(1)
    if len(ic):
        axis.hist(ic.to_numpy(dtype=float), bins=40, color=colour)
        axis.axvline(float(ic.mean()), color="black", linewidth=1.0)
    axis.set_title("IC distribution (black line: mean)", fontsize=9)
    axis.set_xlabel("rank IC (unitless)", fontsize=8)
    axis.set_ylabel("bars (count)", fontsize=8)
    axis.tick_params(labelsize=7)


def _ic_qq(axis: Axes, ic: pd.Series) -> None:
    (colour,) = colours(1)
    values = np.sort(ic.to_numpy(dtype=float))
    n = len(values)
    if n >= 2:
        theory = ndtri((np.arange(1, n + 1) - 0.5) / n)
        standard = (values - values.mean()) / (values.std(ddof=1) or 1.0)
        step = max(1, n // 1500)
        axis.scatter(theory[::step], standard[::step], s=4, color=colour)
        axis.plot(theory, theory, color="grey", linewidth=0.8)
    axis.set_title("IC normal QQ plot (grey: normal)", fontsize=9)
    axis.set_xlabel("normal quantile", fontsize=8)
    axis.set_ylabel("standardised IC quantile", fontsize=8)
    axis.tick_params(labelsize=7)


def _monthly_ic(figure: Figure, axis: Axes, ic: pd.Series) -> None:
    times = to_datetimes(ic.index)
    frame = pd.DataFrame({"ic": ic.to_numpy(dtype=float), "y": times.year, "m": times.month})
    table = frame.groupby(["y", "m"])["ic"].mean().unstack("m").reindex(columns=range(1, 13))
    data = table.to_numpy(dtype=float)
    bound = float(np.nanmax(np.abs(data))) if np.isfinite(data).any() else 0.1
    image = axis.imshow(data, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto")
    axis.set_xticks(range(12), _MONTHS, fontsize=6)
    axis.set_yticks(range(len(table)), [str(year) for year in table.index], fontsize=7)
    for (row, col), value in np.ndenumerate(data):
        if np.isfinite(value):
            axis.text(col, row, f"{value:+.2f}", ha="center", va="center", fontsize=6)
    axis.set_title("Monthly mean IC", fontsize=9)
    figure.colorbar(image, ax=axis, label="mean rank IC")


def _quantile_bars(axis: Axes, sheet: TearSheet) -> None:
    n = sheet.n_quantiles
    axis.bar(range(1, n + 1), sheet.quantile_mean * _BPS, color=colours(n))
    axis.axhline(0.0, color="grey", linewidth=0.8)
    axis.set_xticks(range(1, n + 1), [f"Q{q}" for q in range(1, n + 1)])
    axis.set_title("Mean forward return by quantile (demeaned)", fontsize=9)
    axis.set_xlabel("signal quantile (Q1 = lowest signal)", fontsize=8)
    axis.set_ylabel("bps over the horizon", fontsize=8)
    axis.tick_params(labelsize=7)


def _quantile_cumulative(axis: Axes, sheet: TearSheet, times: pd.DatetimeIndex) -> None:
    n = sheet.n_quantiles
    for q, colour in zip(range(1, n + 1), colours(n), strict=True):
        curve = compounded(sheet.series[f"q{q}"].to_numpy()) * _PCT
        _line(axis, times, curve, color=colour, linewidth=1.0, label=f"Q{q}")
    axis.axhline(0.0, color="grey", linewidth=0.8)
    axis.set_title("Cumulative 1-bar return per quantile, equal-weighted, compounded", fontsize=9)
    axis.set_ylabel("cumulative return, compounded (%)", fontsize=8)
    _time_axis(axis, times)
    legend_outside(axis, title="quantile")


def _spread(axis: Axes, spread: pd.Series, times: pd.DatetimeIndex, window: int) -> None:
    first, second = colours(2)
    values = spread.to_numpy(dtype=float) * _BPS
    rolling = spread.rolling(window, min_periods=max(2, window // 2)).mean().to_numpy() * _BPS
    _line(axis, times, values, color=first, linewidth=0.4, alpha=0.5)
    _line(axis, times, rolling, color=second, linewidth=1.3)
    axis.axhline(0.0, color="grey", linewidth=0.8)
    axis.set_title(f"Top minus bottom quantile (thick: {window}-bar mean)", fontsize=9)
    axis.set_ylabel("bps over the horizon", fontsize=8)
    _time_axis(axis, times)


def _rank_autocorrelation(axis: Axes, autocorr: pd.Series, times: pd.DatetimeIndex) -> None:
    (colour,) = colours(1)
    _line(axis, times, autocorr.to_numpy(dtype=float), color=colour, linewidth=0.7)
    mean = float(autocorr.mean()) if autocorr.notna().any() else float("nan")
    axis.set_title(f"Factor rank autocorrelation at the horizon (mean {mean:.3f})", fontsize=9)
    axis.set_ylabel("correlation of ranks", fontsize=8)
    _time_axis(axis, times)


def _gross_net(axis: Axes, series: pd.DataFrame, times: pd.DatetimeIndex) -> None:
    gross_c, net_c, fee_c, impact_c = colours(4)
    _line(axis, times, compounded(series["gross"].to_numpy()) * _PCT, color=gross_c,
          linewidth=1.1, label="gross, compounded")  # fmt: skip
    _line(axis, times, compounded(series["net"].to_numpy()) * _PCT, color=net_c,
          linewidth=1.1, label="net of costs, compounded")  # fmt: skip
    fees = np.nancumsum(series["cost_fees_spread"].to_numpy(dtype=float)) * _PCT
    impact = np.nancumsum(series["cost_impact"].to_numpy(dtype=float)) * _PCT
    _line(axis, times, -fees, color=fee_c, linewidth=0.9, linestyle="--",
          label="cost: fees + spread")  # fmt: skip
    _line(axis, times, -impact, color=impact_c, linewidth=0.9, linestyle="--",
          label="cost: market impact")  # fmt: skip
    axis.axhline(0.0, color="grey", linewidth=0.8)
    axis.set_title("Gross vs net portfolio return, compounded; costs by kind as minus their "
                   "cumulative sum", fontsize=9)  # fmt: skip
    axis.set_ylabel("% of capital", fontsize=8)
    _time_axis(axis, times)
    legend_outside(axis)


def _drawdown(axis: Axes, net: pd.Series, times: pd.DatetimeIndex) -> None:
    (colour,) = colours(1)
    values = drawdown(net.to_numpy()) * _PCT
    x, y = decimate(times, values)
    axis.fill_between(x, y, 0.0, color=colour, alpha=0.5, linewidth=0)
    axis.set_title(f"Drawdown of the net portfolio (worst {values.min():.1f} %)"
                   if len(values) else "Drawdown of the net portfolio", fontsize=9)  # fmt: skip
    axis.set_ylabel("below the running peak (%)", fontsize=8)
    _time_axis(axis, times)


def _turnover(axis: Axes, turnover: pd.Series, times: pd.DatetimeIndex, window: int) -> None:
    first, second = colours(2)
    rolling = turnover.rolling(window, min_periods=max(2, window // 2)).mean().to_numpy()
    _line(axis, times, turnover.to_numpy(dtype=float) * _PCT, color=first, linewidth=0.4,
          alpha=0.5)  # fmt: skip
    _line(axis, times, rolling * _PCT, color=second, linewidth=1.3)
    axis.set_title(f"Portfolio turnover per bar (thick: {window}-bar mean)", fontsize=9)
    axis.set_ylabel("Σ|Δweight| (% of capital)", fontsize=8)
    _time_axis(axis, times)
