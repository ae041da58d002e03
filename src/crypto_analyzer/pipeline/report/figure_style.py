"""How report figures look: distinct colours, legends beside the data, display-only downsampling.

Rules every report figure follows (``tests/unit/report/test_figure_legibility.py`` checks them):

* a legend never covers data: it sits outside the axes (right of them), and a figure with many
  series shows the ``TOP_N`` most telling ones plus one grey "others" band;
* no colour repeats within a figure (at most ``TOP_N`` named series, each its own colour);
* datetime series longer than ``MAX_POINTS`` are drawn from a min/max decimation — the picture of
  the extremes is kept, the drawing cost is bounded; the stored data artifacts keep every bar;
* PNG bytes are deterministic (no software/time metadata) so a pinned-clock rerun is
  byte-identical, which the manifest relies on.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "MAX_POINTS",
    "OTHERS_COLOUR",
    "TOP_N",
    "WIDTH",
    "band",
    "colours",
    "date_ticks",
    "day_numbers",
    "decimate",
    "legend_outside",
    "new_figure",
    "png",
    "to_datetimes",
    "top_n",
]

DPI = 96
WIDTH = 9.6
"""Inches: 920 px at 96 dpi, inside a laptop browser window with margins."""
TOP_N = 8
MAX_POINTS = 1500
OTHERS_COLOUR = "#b0b0b0"
_DAY_NS = 86_400 * 10**9
_PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
    "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79",
)  # fmt: skip


def colours(n: int) -> list[str]:
    """``n`` distinct colours (``n`` ≤ 10; callers group the rest as "others")."""
    if n > len(_PALETTE):
        raise ValueError(f"{n} series need grouping: at most {len(_PALETTE)} distinct colours")
    return list(_PALETTE[:n])


def new_figure(height: float, *, width: float = WIDTH, constrained: bool = True) -> Figure:
    """A figure with constrained layout, so outside legends and labels get their own room.

    ``constrained=False`` for large multi-panel figures that lay themselves out with fixed margins
    (constrained layout measures every artist twice, which costs seconds on a tear sheet).
    """
    return plt.figure(figsize=(width, height), layout="constrained" if constrained else None)


def day_numbers(times: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """matplotlib date numbers (days since 1970-01-01 UTC), converted in one vector operation.

    Plotting datetime objects makes matplotlib convert them one by one; numbers are drawn as is.
    """
    if isinstance(times, pd.DatetimeIndex):
        return times.as_unit("ns").asi8 / _DAY_NS
    return np.asarray(times, dtype=float)


def date_ticks(axis: Axes, times: pd.DatetimeIndex, count: int = 5) -> None:
    """``count`` fixed date ticks across ``times`` (cheaper and steadier than auto-locating)."""
    if len(times) == 0:
        return
    points = pd.DatetimeIndex(np.linspace(times[0].value, times[-1].value, count).astype("int64"),
                              tz="UTC")  # fmt: skip
    axis.set_xticks(
        points.as_unit("ns").asi8 / _DAY_NS, [point.strftime("%Y-%m-%d") for point in points]
    )


def legend_outside(axis: Axes, *, title: str | None = None) -> None:
    """The legend right of the axes, never over the data."""
    axis.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0,
        fontsize=7,
        title=title,
        title_fontsize=7,
        frameon=False,
    )


def png(figure: Figure) -> bytes:
    """PNG bytes without metadata that would vary between runs."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def to_datetimes(index: Sequence[int] | np.ndarray | pd.Index) -> pd.DatetimeIndex:
    """``bar_open_ms`` values as UTC datetimes."""
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(index, dtype="int64"), unit="ms", utc=True))


def decimate(
    x: np.ndarray | pd.Index, y: np.ndarray, max_points: int = MAX_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """At most about ``max_points`` points: each bucket keeps its min and max (and the last point).

    For display only: a line through min/max pairs draws the same envelope as the full series.
    """
    xs = day_numbers(x) if isinstance(x, pd.DatetimeIndex) else np.asarray(x)
    ys = np.asarray(y, dtype=float)
    n = len(ys)
    if n <= max_points:
        return xs, ys
    buckets = max(1, max_points // 2)
    edges = np.linspace(0, n, buckets + 1).astype(int)
    starts = edges[:-1][edges[1:] > edges[:-1]]
    index = np.concatenate([_bucket_extremes(ys, starts), [n - 1]])
    if len(index) > 1 and index[-2] == n - 1:
        index = index[:-1]
    return xs[index], ys[index]


def _bucket_extremes(ys: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per bucket (``starts``, up to the next start): the first positions of its lowest and
    highest value ignoring NaN, in order (one when they coincide); a bucket without a finite value
    keeps its first position. Equal to ``nanargmin``/``nanargmax`` bucket by bucket, in one pass."""
    n = len(ys)
    lengths = np.diff(np.append(starts, n))
    positions = np.arange(n)
    lowest = np.repeat(np.fmin.reduceat(ys, starts), lengths)
    highest = np.repeat(np.fmax.reduceat(ys, starts), lengths)
    low = np.minimum.reduceat(np.where(ys == lowest, positions, n), starts)
    high = np.minimum.reduceat(np.where(ys == highest, positions, n), starts)
    empty = np.add.reduceat(np.isfinite(ys), starts) == 0  # no finite value: keep the start
    low, high = np.where(empty, starts, low), np.where(empty, starts, high)
    first, second = np.minimum(low, high), np.maximum(low, high)
    pairs = np.stack([first, second], axis=1).ravel()
    keep = np.ones(len(pairs), dtype=bool)
    keep[1::2] = second != first
    return pairs[keep]


def band(
    x: pd.Index | np.ndarray, low: pd.Series, high: pd.Series, max_points: int = MAX_POINTS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A min-max band at most ``max_points`` wide: per bucket, the lowest low and highest high."""
    xs = day_numbers(x) if isinstance(x, pd.DatetimeIndex) else np.asarray(x)
    lo, hi = low.to_numpy(dtype=float), high.to_numpy(dtype=float)
    if len(xs) <= max_points:
        return xs, lo, hi
    edges = np.linspace(0, len(xs), max_points + 1).astype(int)
    starts = edges[:-1][edges[1:] > edges[:-1]]
    return xs[starts], np.fmin.reduceat(lo, starts), np.fmax.reduceat(hi, starts)


def top_n(scores: pd.Series, n: int = TOP_N) -> tuple[list[str], list[str]]:
    """(shown, others): the ``n`` names with the largest ``|score|``, the rest grouped.

    When only one name would be left over it is shown too — an "others" band of one is noise.
    """
    order = scores.abs().fillna(-np.inf).sort_values(ascending=False, kind="stable").index
    names = [str(name) for name in order]
    if len(names) <= n + 1:
        return names, []
    return names[:n], names[n:]
