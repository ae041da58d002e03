"""Charts as inline SVG markup built from a run's stored numbers, so pages read without JavaScript.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (its text alternative),
axis labels, tick values and a text legend. Inputs are plain sequences; long series are thinned to
at most :data:`MAX_POINTS` points (every k-th point, the last always kept), which keeps a page
small while the shape stays readable. Every text that reaches the markup is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import count

from markupsafe import Markup, escape

__all__ = ["MAX_POINTS", "PALETTE", "histogram_chart", "line_chart"]

MAX_POINTS = 400
PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
)
_WIDTH, _HEIGHT = 820, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 190, 28, 44
_LEGEND_ROWS = 15
_ids = count(1)

Series = Sequence[tuple[float, float]]


def _finite(points: Series) -> list[tuple[float, float]]:
    return [(x, y) for x, y in points if math.isfinite(x) and math.isfinite(y)]


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) <= MAX_POINTS:
        return points
    step = math.ceil(len(points) / MAX_POINTS)
    kept = points[::step]
    return kept if kept[-1] == points[-1] else [*kept, points[-1]]


def _ticks(low: float, high: float, n: int = 5) -> list[float]:
    if high <= low:
        return [low]
    return [low + (high - low) * i / (n - 1) for i in range(n)]


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _frame(title: str, desc: str, label: str) -> tuple[str, str]:
    number = next(_ids)
    title_id, desc_id = f"chart-{number}-title", f"chart-{number}-desc"
    head = (
        f'<svg class="chart" role="img" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'width="{_WIDTH}" height="{_HEIGHT}" aria-labelledby="{title_id} {desc_id}" '
        f'data-chart="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(desc)}</desc>'
        f'<text x="{_WIDTH / 2}" y="18" text-anchor="middle" class="chart-title">'
        f"{escape(title)}</text>"
    )
    return head, "</svg>"


def _axes(
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    x_label: str,
    y_label: str,
    x_ticks: Sequence[tuple[float, str]],
) -> list[str]:
    (x0, x1), (y0, y1) = x_range, y_range
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    parts = [
        f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" class="plot-area"/>',
        f'<text x="{_LEFT + plot_w / 2}" y="{_HEIGHT - 6}" text-anchor="middle" '
        f'class="axis-label">{escape(x_label)}</text>',
        f'<text x="14" y="{_TOP + plot_h / 2}" text-anchor="middle" class="axis-label" '
        f'transform="rotate(-90 14 {_TOP + plot_h / 2})">{escape(y_label)}</text>',
    ]
    for value in _ticks(y0, y1):
        y = _TOP + plot_h * (1 - (value - y0) / ((y1 - y0) or 1))
        parts.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{_fmt(value)}</text>"
        )
    for value, text in x_ticks:
        x = _LEFT + plot_w * (value - x0) / ((x1 - x0) or 1)
        parts.append(
            f'<text x="{x:.1f}" y="{_TOP + plot_h + 16}" text-anchor="middle" '
            f'class="tick">{escape(text)}</text>'
        )
    if y0 < 0 < y1:
        y = _TOP + plot_h * (1 - (0 - y0) / (y1 - y0))
        parts.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="zero"/>'
        )
    return parts


def line_chart(
    series: Mapping[str, Series],
    *,
    title: str,
    desc: str,
    x_label: str,
    y_label: str,
    x_tick_labels: Mapping[float, str] | None = None,
    label: str = "",
) -> Markup:
    """Lines (with markers when short) for each named series of (x, y) points."""
    cleaned = {name: _thin(_finite(points)) for name, points in series.items()}
    cleaned = {name: points for name, points in cleaned.items() if points}
    head, tail = _frame(title, desc, label or title)
    if not cleaned:
        text = f'<text x="{_WIDTH / 2}" y="{_HEIGHT / 2}" text-anchor="middle">no data</text>'
        return Markup(head + text + tail)
    xs = [x for points in cleaned.values() for x, _ in points]
    ys = [y for points in cleaned.values() for _, y in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.05 or abs(y0) * 0.1 or 1.0
    y0, y1 = y0 - pad, y1 + pad
    if x_tick_labels:
        ticks = sorted(x_tick_labels.items())
    else:
        ticks = [(value, _fmt(value)) for value in _ticks(x0, x1)]
    parts = [head, *_axes((x0, x1), (y0, y1), x_label, y_label, ticks)]
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM

    def at(x: float, y: float) -> str:
        px = _LEFT + plot_w * (x - x0) / ((x1 - x0) or 1)
        py = _TOP + plot_h * (1 - (y - y0) / (y1 - y0))
        return f"{px:.1f},{py:.1f}"

    for index, (name, points) in enumerate(cleaned.items()):
        colour = PALETTE[index % len(PALETTE)]
        path = " ".join(at(x, y) for x, y in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" '
            f'stroke-width="1.5" class="series"><title>{escape(name)}</title></polyline>'
        )
        if index < _LEGEND_ROWS:
            row_y = _TOP + 10 + 14 * index
            row_x = _WIDTH - _RIGHT + 12
            parts.append(
                f'<line x1="{row_x}" x2="{row_x + 16}" y1="{row_y - 4}" y2="{row_y - 4}" '
                f'stroke="{colour}" stroke-width="3"/><text x="{row_x + 22}" y="{row_y}" '
                f'class="legend">{escape(name)}</text>'
            )
        if len(points) <= 12:
            for x, y in points:
                cx, cy = at(x, y).split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"/>')
    parts.append(tail)
    return Markup("".join(parts))


def histogram_chart(
    values: Sequence[float],
    *,
    title: str,
    desc: str,
    x_label: str,
    marker: float | None = None,
    marker_label: str = "",
    bins: int = 30,
    label: str = "",
) -> Markup:
    """Bars of a histogram, with an optional vertical marker (e.g. the observed statistic)."""
    finite = [value for value in values if math.isfinite(value)]
    head, tail = _frame(title, desc, label or title)
    if not finite:
        text = f'<text x="{_WIDTH / 2}" y="{_HEIGHT / 2}" text-anchor="middle">no data</text>'
        return Markup(head + text + tail)
    low = min([*finite, marker] if marker is not None and math.isfinite(marker) else finite)
    high = max([*finite, marker] if marker is not None and math.isfinite(marker) else finite)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in finite:
        counts[min(bins - 1, int((value - low) / width))] += 1
    top = max(counts)
    ticks = [(value, _fmt(value)) for value in _ticks(low, low + width * bins)]
    parts = [head, *_axes((low, low + width * bins), (0, top), x_label, "count", ticks)]
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    for index, number in enumerate(counts):
        bar_h = plot_h * number / (top or 1)
        x = _LEFT + plot_w * index / bins
        parts.append(
            f'<rect x="{x:.1f}" y="{_TOP + plot_h - bar_h:.1f}" '
            f'width="{plot_w / bins - 1:.1f}" height="{bar_h:.1f}" class="bar"/>'
        )
    if marker is not None and math.isfinite(marker):
        x = _LEFT + plot_w * (marker - low) / ((width * bins) or 1)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{_TOP}" y2="{_TOP + plot_h}" '
            f'class="marker"><title>{escape(marker_label)}</title></line>'
        )
    parts.append(tail)
    return Markup("".join(parts))
