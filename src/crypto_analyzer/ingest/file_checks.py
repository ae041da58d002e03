"""Whole-file checks for imported OHLCV: does the file say what the import options claim?

Row rules (:mod:`crypto_analyzer.ingest.validation`) judge one record at a time; these judge the
file as a whole, because the usual mistakes with real files are file-wide: daily bars imported as
``1h``, epoch seconds read as milliseconds, ``YYYYMMDD`` integers read as epoch seconds (1970
bars), equity history from 1999 imported as a crypto venue. Each is refused before anything is
written, with the evidence (spacing found, the unit the values look like, the offending line).

Two value checks are statistical and are therefore *flags*, not refusals: a one-bar price spike
that reverts (robust z-score of the log return in median absolute deviations) and a long run of
zero-volume bars. The import either quarantines the flagged rows or keeps them with a warning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from crypto_analyzer.core.errors import ValidationError

__all__ = [
    "CRYPTO_EARLIEST_MS",
    "DEFAULT_FUTURE_TOLERANCE_MS",
    "check_plausible_times",
    "check_spacing",
    "check_unit",
    "describe_ms",
    "jump_rows",
    "reason_code",
    "top_reasons",
    "unit_by_magnitude",
    "zero_volume_rows",
]

CRYPTO_EARLIEST_MS = int(datetime(2009, 1, 1, tzinfo=UTC).timestamp() * 1000)
"""No crypto venue traded before 2009 (the first block is dated 2009-01-03)."""
DEFAULT_FUTURE_TOLERANCE_MS = 86_400_000
"""Bars may open up to a day after our clock (time zones, clock skew); later ones are mistakes."""

_UNITS = (("ns", 1e17), ("us", 1e14), ("ms", 1e11), ("s", 0.0))
_SPANS = (
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("min", 60_000),
    ("s", 1_000),
    ("ms", 1),
)


def describe_ms(span: int) -> str:
    """``86400000`` → ``1d``; ``5400000`` → ``90min``: the largest unit that divides it."""
    for name, size in _SPANS:
        if span % size == 0:
            return f"{span // size}{name}"
    return f"{span}ms"  # pragma: no cover - every integer is divisible by 1


def unit_by_magnitude(numbers: np.ndarray) -> str:
    """The epoch unit a column of present-era times is written in, judged by its largest value."""
    top = float(np.nanmax(np.abs(numbers))) if numbers.size else 0.0
    return next(unit for unit, floor in _UNITS if top >= floor)


def check_unit(numbers: np.ndarray, unit: str, name: str) -> None:
    """Refuse ``--time-unit`` when the values' magnitude says another unit."""
    looks = unit_by_magnitude(numbers)
    if looks != unit:
        sample = int(np.nanmax(np.abs(numbers)))
        raise ValidationError(
            f"{name}: --time-unit {unit} does not fit the values: they look like epoch {looks} "
            f"(e.g. {sample} is {_iso(sample, looks)} as {looks}, "
            f"{_iso(sample, unit)} as {unit})",
            f"pass --time-unit {looks} (or auto)",
        )


def check_plausible_times(
    ms: np.ndarray,
    *,
    name: str,
    lines: np.ndarray,
    earliest_ms: int | None,
    now_ms: int,
    tolerance_ms: int = DEFAULT_FUTURE_TOLERANCE_MS,
    raw: pd.Series | None = None,
) -> None:
    """Refuse times before ``earliest_ms`` (crypto: 2009) or after ``now + tolerance``."""
    if earliest_ms is not None:
        early = np.flatnonzero(ms < earliest_ms)
        if early.size:
            first = int(early[0])
            hint = _date_hint(raw) or (
                f"if the history is real (not crypto), pass --earliest {_day(int(ms.min()))} "
                "or --earliest any"
            )
            raise ValidationError(
                f"{name}: {early.size} timestamp(s) before {_day(earliest_ms)} "
                f"(line {int(lines[first])}: {_day(int(ms[first]))}); "
                "no crypto venue traded then",
                hint,
            )
    late = np.flatnonzero(ms > now_ms + tolerance_ms)
    if late.size:
        first = int(late[0])
        raise ValidationError(
            f"{name}: {late.size} timestamp(s) in the future "
            f"(line {int(lines[first])}: {_day(int(ms[first]))}; now is {_day(now_ms)})",
            "check the time unit and time zone of the file (--time-unit, --date-format)",
        )


def check_spacing(ms: np.ndarray, freq_ms: int, freq: str, name: str) -> None:
    """The smallest step between consecutive bars must be exactly one bar of ``--freq``.

    Gaps (weekends, holidays, outages) are allowed; bars closer together than the frequency
    (finer data) or never one bar apart (coarser data) are refused with the spacing found.
    """
    if ms.size < 2:
        return
    steps = np.diff(np.unique(ms))
    smallest = int(steps.min())
    if smallest == freq_ms:
        return
    values, counts = np.unique(steps, return_counts=True)
    common = int(values[np.argmax(counts)])
    raise ValidationError(
        f"{name}: bars are spaced {describe_ms(common)} apart (most common step; smallest "
        f"{describe_ms(smallest)}), which does not match --freq {freq} ({describe_ms(freq_ms)})",
        "pass the --freq the file was sampled at, or resample the file first",
    )


def jump_rows(close: np.ndarray, *, mads: float, window: int = 61) -> np.ndarray:
    """Rows whose close is a one-bar spike: the return into the bar is ``mads`` robust
    deviations from the neighbourhood's median and the next return reverts most of it.

    The deviation scale is the rolling median absolute deviation of the log returns (centred
    window), so a volatile period does not flag its own ordinary moves.
    """
    n = close.size
    flagged = np.zeros(n, dtype=bool)
    if n < 3:
        return flagged
    returns = pd.Series(np.diff(np.log(close)))
    centre = returns.rolling(window, center=True, min_periods=3).median()
    spread = (returns - centre).abs().rolling(window, center=True, min_periods=3).median()
    scale = 1.4826 * spread.to_numpy()
    deviation = (returns - centre).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.abs(deviation) / scale
    into = returns.to_numpy()[:-1]
    back = returns.to_numpy()[1:]
    reverts = (np.sign(into) == -np.sign(back)) & (np.abs(back) >= 0.75 * np.abs(into))
    spike = (score[:-1] > mads) & reverts & (scale[:-1] > 0)
    flagged[1:-1] = spike  # return i leads into bar i + 1
    return flagged


def zero_volume_rows(volume: np.ndarray, *, min_run: int) -> np.ndarray:
    """Rows inside a run of at least ``min_run`` consecutive zero-volume bars."""
    zero = volume == 0
    flagged = np.zeros(zero.size, dtype=bool)
    if not zero.any():
        return flagged
    edges = np.diff(np.concatenate([[0], zero.astype(np.int8), [0]]))
    for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if stop - start >= min_run:
            flagged[start:stop] = True
    return flagged


def reason_code(reason: str) -> str:
    """``"high_below_low: high < low"`` → ``"high_below_low"``."""
    return reason.split(":", 1)[0].strip()


def top_reasons(reasons: Iterable[str], limit: int = 3) -> list[tuple[str, int]]:
    """The most frequent reason codes with their counts, most frequent first (ties by name)."""
    counts = Counter(reason_code(reason) for reason in reasons)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def _iso(value: int, unit: str) -> str:
    factor = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "ns": 1e-6}[unit]
    ms = value * factor
    if not -6e15 < ms < 2.5e14:  # beyond pandas' datetime range: say so rather than crash
        return "out of range"
    return _day(int(ms))


def _day(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%d")


def _date_hint(raw: pd.Series | None) -> str | None:
    """Integers such as 20240131 read as epoch seconds land in 1970: name the real format."""
    if raw is None:
        return None
    text = raw.astype("string").str.strip()
    if not text.str.fullmatch(r"(19|20)\d{6}").fillna(False).all():
        return None
    parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    if parsed.isna().any():
        return None
    return "the values look like YYYYMMDD dates: pass --date-format %Y%m%d"
