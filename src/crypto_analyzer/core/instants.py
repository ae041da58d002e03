"""The range of instants the project records, and the one text form of an audit timestamp.

Kept apart from :mod:`crypto_analyzer.core.clock` because settings must check a pinned time before
the clock (which reads settings) exists. The bounds are deliberately narrow: before 1970 a UUIDv7
run instance id has no time prefix, and nothing a research workspace records happens after 2099.
Python itself accepts years 1 to 9999 and UTC offsets up to a day, and both edges broke things:
``%Y`` writes year 1 as ``1`` (so audit text stopped sorting), and converting ``0001-01-01``
at ``+01:00`` to UTC raised ``OverflowError``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = [
    "MAX_INSTANT",
    "MAX_OFFSET",
    "MIN_INSTANT",
    "STAMP_PATTERN",
    "check_instant",
    "format_stamp",
    "parse_stamp",
]

MIN_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
"""Earliest instant accepted (inclusive)."""

MAX_INSTANT = datetime(2100, 1, 1, tzinfo=UTC)
"""First instant no longer accepted (exclusive)."""

MAX_OFFSET = timedelta(hours=14)
"""Largest UTC offset in use anywhere (Line Islands, +14:00); larger ones are typos or attacks."""

STAMP_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
"""An audit timestamp: UTC, microseconds, ``Z``, always 27 characters."""


def check_instant(moment: datetime, what: str = "time") -> datetime:
    """``moment`` in UTC, or ValueError naming the bound it breaks (offsets included)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} has no timezone; expected e.g. 2024-01-01T00:00:00Z")
    offset = moment.utcoffset()
    assert offset is not None  # checked above; narrows the type
    if abs(offset) > MAX_OFFSET:
        raise ValueError(
            f"{what} has UTC offset {_offset_text(offset)}; offsets range from -14:00 to +14:00"
        )
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted past the calendar's edge
        utc = MIN_INSTANT - timedelta(1) if moment.year < 1970 else MAX_INSTANT
    if utc < MIN_INSTANT:
        raise ValueError(f"{what} {moment.isoformat()} is before 1970-01-01T00:00:00Z")
    if utc >= MAX_INSTANT:
        raise ValueError(f"{what} {moment.isoformat()} is not before 2100-01-01T00:00:00Z")
    return utc


def format_stamp(moment: datetime) -> str:
    """Fixed-width UTC text of any aware datetime (four-digit year, even for year 1)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} is naive; pass an aware datetime (UTC)")
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            f"{moment.isoformat()} cannot be written as UTC: it falls outside years 1-9999"
        ) from None
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond:06d}Z"
    )


def parse_stamp(text: str) -> datetime:
    """Inverse of :func:`format_stamp`; anything not in exactly that form is a ValueError."""
    if not isinstance(text, str) or not STAMP_PATTERN.fullmatch(text):
        raise ValueError(f"{text!r} is not an audit timestamp (YYYY-MM-DDTHH:MM:SS.ffffffZ)")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{text!r} is not an audit timestamp (no such date or time)") from None


def _offset_text(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = int(abs(offset).total_seconds() // 60)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
