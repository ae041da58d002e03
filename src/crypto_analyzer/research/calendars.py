"""Trading calendars and gaps: which bar slots exist, and what happens across a missing bar.

A panel row is one bar *of the calendar*, so a horizon of ``h`` rows is ``h`` trading bars and a
rolling window of 24 rows is 24 bars the market was open. Crypto trades around the clock (``24/7``:
every slot from the first bar to the last is a row, today's behaviour). Reference data from other
markets trades on weekdays with holidays: on the ``weekdays`` calendar (or a ``file`` calendar
listing the trading days) weekend/non-session slots are not rows at all, and a slot where *no*
instrument has a bar is a market holiday and is not a row either. Without that, weekends become
all-NaN rows and turn every rolling signal and forward return into NaN.

An instrument missing a bar on a row the others traded has a *gap*. The rule across gaps is
explicit: ``drop`` (no return is computed across the gap: today's behaviour) or ``carry`` (the last
close is carried over gaps of at most ``max_gap`` bars, so the return across the gap is the whole
move, recorded with the gap's length). Gaps longer than ``max_gap`` are never bridged and are
reported. ``auto`` picks ``weekdays`` when the data has no bar on any Saturday or Sunday and spans
at least two weeks, else ``24/7``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.research.bar_columns import BarColumns, as_bar_columns
from crypto_analyzer.research.panel import Panel, panel_from_bars

__all__ = [
    "CALENDAR_KINDS",
    "GAP_RULES",
    "CalendarReport",
    "CalendarSpec",
    "calendar_panel",
    "read_calendar_file",
    "resolve_calendar",
]

CALENDAR_KINDS = ("auto", "24/7", "weekdays", "file")
GAP_RULES = ("drop", "carry")
_DAY_MS = 86_400_000
_YEAR_MS = 365.25 * _DAY_MS
_SHOWN_GAPS = 5


@dataclass(frozen=True)
class CalendarSpec:
    """The configured calendar and gap rule (``sessions``: trading days for ``file``)."""

    kind: str = "auto"
    gap_rule: str = "drop"
    max_gap: int = 3
    sessions: frozenset[int] | None = None
    """Trading days as days since 1970-01-01 (UTC), for ``kind == "file"``."""
    source: str | None = None
    bars_per_year: float | None = None
    """Override of the annualisation; default: measured from the calendar's rows."""

    def __post_init__(self) -> None:
        if self.kind not in CALENDAR_KINDS:
            raise ValueError(f"calendar {self.kind!r} is not one of {', '.join(CALENDAR_KINDS)}")
        if self.gap_rule not in GAP_RULES:
            raise ValueError(f"gap rule {self.gap_rule!r} is not one of {', '.join(GAP_RULES)}")
        if self.kind == "file" and not self.sessions:
            raise ValueError("a file calendar needs at least one trading day")


@dataclass(frozen=True)
class CalendarReport:
    """What the calendar did to the data: the record a report states."""

    calendar: str
    bars_per_year: float
    gap_rule: str
    max_gap: int
    holiday_rows: int = 0
    off_calendar_bars: int = 0
    carried_gaps: int = 0
    carried_bars: int = 0
    long_gaps: tuple[tuple[str, int, int], ...] = ()
    """Gaps longer than ``max_gap``: (instrument, first missing bar open ms, length in bars)."""
    n_long_gaps: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def trivial(self) -> bool:
        """24/7 with nothing to report: the report stays as it always was."""
        return self.calendar == "24/7" and not self.n_long_gaps and not self.carried_gaps

    def notes(self) -> list[str]:
        """One-line statements for the report."""
        out = [
            f"calendar {self.calendar}: {self.bars_per_year:.1f} bars per year for annualisation",
        ]
        if self.holiday_rows or self.off_calendar_bars:
            out.append(
                f"{self.holiday_rows} calendar slot(s) with no bar for any instrument were "
                f"treated as holidays; {self.off_calendar_bars} bar(s) outside the calendar "
                "were left out"
            )
        rule = (
            "no return is computed across a missing bar (drop)"
            if self.gap_rule == "drop"
            else f"the last close is carried over gaps of up to {self.max_gap} bar(s) "
            f"({self.carried_gaps} gap(s), {self.carried_bars} bar(s) carried)"
        )
        out.append(f"gap rule: {rule}; gaps longer than {self.max_gap} bar(s) are never bridged")
        if self.n_long_gaps:
            shown = ", ".join(
                f"{asset} {length} bars from {_day(start)}"
                for asset, start, length in self.long_gaps[:_SHOWN_GAPS]
            )
            more = (
                f" and {self.n_long_gaps - _SHOWN_GAPS} more"
                if self.n_long_gaps > _SHOWN_GAPS
                else ""
            )
            out.append(f"{self.n_long_gaps} gap(s) longer than {self.max_gap} bars: {shown}{more}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "bars_per_year": self.bars_per_year,
            "calendar": self.calendar,
            "carried_bars": self.carried_bars,
            "carried_gaps": self.carried_gaps,
            "gap_rule": self.gap_rule,
            "holiday_rows": self.holiday_rows,
            "long_gaps": [list(gap) for gap in self.long_gaps],
            "max_gap": self.max_gap,
            "n_long_gaps": self.n_long_gaps,
            "off_calendar_bars": self.off_calendar_bars,
        }


def read_calendar_file(path: Path) -> frozenset[int]:
    """Trading days from a file: one ISO date per line (or a CSV whose first column is dates)."""
    text = path.read_text(encoding="utf-8")
    cells = [
        line.split(",")[0].strip() for line in text.splitlines() if line.strip() and line[0] != "#"
    ]
    parsed = pd.to_datetime(pd.Series(cells), errors="coerce", format="ISO8601", utc=True)
    if parsed.isna().all():
        raise ValueError(f"calendar file {path.name} has no ISO dates (one YYYY-MM-DD per line)")
    days = parsed.dropna().astype("datetime64[ms, UTC]").astype("int64") // _DAY_MS
    return frozenset(int(day) for day in days)


def resolve_calendar(times: np.ndarray, spec: CalendarSpec) -> str:
    """The calendar ``auto`` stands for on these bar times (others resolve to themselves)."""
    if spec.kind != "auto":
        return spec.kind
    if times.size == 0 or int(times.max() - times.min()) < 14 * _DAY_MS:
        return "24/7"
    return "24/7" if _is_weekend(times).any() else "weekdays"


def calendar_panel(
    bars: pd.DataFrame | BarColumns,
    spec: CalendarSpec,
    *,
    bar_ms: int | None = None,
    release: bool = False,
) -> tuple[Panel, CalendarReport]:
    """:func:`panel_from_bars` on the calendar's rows, with the gap rule applied (``release``:
    as there, forget each block of ``bars`` once it is in the grids)."""
    bars = as_bar_columns(bars)
    kind = resolve_calendar(bars.times(), spec)
    if kind == "24/7":
        panel = panel_from_bars(bars, bar_ms=bar_ms, release=release)
        slots = panel.shape[0]
        holiday = off = 0
    else:
        regular = panel_from_bars(bars, bar_ms=bar_ms, release=release)
        slots_all = regular.times.to_numpy(dtype=np.int64)
        in_calendar = _in_sessions(slots_all, kind, spec.sessions)
        present = regular.close.notna().any(axis=1).to_numpy()
        keep = in_calendar & present
        holiday = int((in_calendar & ~present).sum())
        off_rows = ~in_calendar & present
        off = int(regular.close.notna().to_numpy()[off_rows].sum())
        if not keep.any():
            raise ValueError(
                f"no bar falls on the {kind} calendar; check the calendar or the data's time zone"
            )
        panel = _rows(regular, keep)
        slots = panel.shape[0]
    span_ms = int(panel.times[-1] - panel.times[0]) + panel.bar_ms
    per_year = spec.bars_per_year or (
        _YEAR_MS / panel.bar_ms if kind == "24/7" else slots * _YEAR_MS / span_ms
    )
    panel, gaps = _apply_gap_rule(panel, spec)
    name = f"file:{spec.source}" if kind == "file" and spec.source else kind
    panel = Panel(
        panel.close,
        panel.volume,
        panel.log_returns,
        panel.dollar_volume,
        panel.bar_ms,
        calendar=name,
        bars_per_year=None if kind == "24/7" and spec.bars_per_year is None else per_year,
    )
    report = CalendarReport(
        calendar=name,
        bars_per_year=float(per_year),
        gap_rule=spec.gap_rule,
        max_gap=spec.max_gap,
        holiday_rows=holiday,
        off_calendar_bars=off,
        **gaps,
    )
    return panel, report


def _rows(panel: Panel, keep: np.ndarray) -> Panel:
    """The kept rows, with log returns recomputed between consecutive kept rows."""
    close = panel.close.loc[keep]
    volume = panel.volume.loc[keep]
    return _rebuilt(close, volume, panel.bar_ms)


def _rebuilt(close: pd.DataFrame, volume: pd.DataFrame, bar_ms: int) -> Panel:
    values = close.to_numpy(dtype=np.float64)
    log_ret = np.full(values.shape, np.nan)
    log_ret[1:] = np.log(values[1:]) - np.log(values[:-1])
    log_returns = pd.DataFrame(log_ret, index=close.index, columns=close.columns)
    return Panel(close, volume, log_returns, close * volume, bar_ms)


def _apply_gap_rule(panel: Panel, spec: CalendarSpec) -> tuple[Panel, dict[str, Any]]:
    """Find interior gaps per instrument; carry short ones when the rule says so."""
    present = panel.close.notna().to_numpy()
    times = panel.times.to_numpy(dtype=np.int64)
    long_gaps: list[tuple[str, int, int]] = []
    carry = np.zeros(present.shape, dtype=bool)
    carried_gaps = 0
    for column, asset in enumerate(panel.assets):
        for start, length in _interior_gaps(present[:, column]):
            if length > spec.max_gap:
                long_gaps.append((str(asset), int(times[start]), int(length)))
            elif spec.gap_rule == "carry":
                carry[start : start + length, column] = True
                carried_gaps += 1
    gaps: dict[str, Any] = {
        "long_gaps": tuple(long_gaps),
        "n_long_gaps": len(long_gaps),
        "carried_gaps": carried_gaps,
        "carried_bars": int(carry.sum()),
    }
    if not carry.any():
        return panel, gaps
    filled = panel.close.ffill().where(carry | present)
    return _rebuilt(filled, panel.volume, panel.bar_ms), gaps


def _interior_gaps(present: np.ndarray) -> Iterable[tuple[int, int]]:
    """(first missing row, length) of each run of missing rows between two present rows."""
    rows = np.flatnonzero(present)
    if rows.size < 2:
        return []
    steps = np.diff(rows)
    where = np.flatnonzero(steps > 1)
    return [(int(rows[i] + 1), int(steps[i] - 1)) for i in where]


def _is_weekend(times: np.ndarray) -> np.ndarray:
    weekday = (times // _DAY_MS + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    return weekday >= 5


def _in_sessions(times: np.ndarray, kind: str, sessions: frozenset[int] | None) -> np.ndarray:
    if kind == "weekdays":
        return ~_is_weekend(times)
    days = times // _DAY_MS
    return np.isin(days, np.fromiter(sessions or (), dtype=np.int64))


def _day(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%d")
