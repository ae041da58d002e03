"""The project's one clock.

Everything that records a time asks :func:`now`. ``CRYPTO_ANALYZER_FIXED_TIME`` (resolved by
:mod:`crypto_analyzer.core.settings`) pins it, which is what makes reruns byte-identical:
timestamps in
artifacts, run instance ids and event rows all derive from this value.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crypto_analyzer.core.settings import load_settings

__all__ = ["is_pinned", "now", "now_ms", "to_iso", "to_ms", "wall_now"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now() -> datetime:
    """Current instant as an aware UTC datetime, or the pinned time when one is configured."""
    pinned = load_settings().fixed_time
    if pinned is not None:
        return pinned.astimezone(UTC)
    return datetime.now(UTC)


def wall_now() -> datetime:
    """The real current instant, even when the clock is pinned.

    For operational timers that must keep moving — a circuit breaker's cooldown, a retry budget —
    not for anything recorded in artifacts: under a pinned clock such a timer would never expire.
    """
    return datetime.now(UTC)


def is_pinned() -> bool:
    """True when ``CRYPTO_ANALYZER_FIXED_TIME`` pins the clock (deterministic mode)."""
    return load_settings().fixed_time is not None


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (market-data time axes are stored this way)."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} is naive; pass an aware datetime (UTC)")
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def now_ms() -> int:
    """Epoch milliseconds of :func:`now`."""
    return to_ms(now())


def to_iso(moment: datetime) -> str:
    """Audit timestamp text: UTC, microseconds, ``Z`` suffix — fixed width so it sorts as text."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} is naive; pass an aware datetime (UTC)")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
