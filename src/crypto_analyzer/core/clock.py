"""The project's one clock.

Everything that records a time asks :func:`now`. ``CRYPTO_ANALYZER_FIXED_TIME`` (resolved by
:mod:`crypto_analyzer.core.settings`, from the environment only) pins it, which is what makes
reruns byte-identical: timestamps in artifacts and run instance ids derive from this value.

Governed writes are different: a candidate, an eligibility report or a governance event says *when*
a decision was taken, and a pin would let whoever sets one date it at will. The governance service
therefore stamps them with :func:`governed_now`, which is never pinned, unless the tenant is an
explicit sandbox (see ``db.workspace_mode``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crypto_analyzer.core.instants import format_stamp, parse_stamp
from crypto_analyzer.core.settings import load_settings

__all__ = [
    "from_iso",
    "governed_now",
    "is_pinned",
    "now",
    "now_ms",
    "to_iso",
    "to_ms",
    "wall_now",
]

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


def governed_now() -> datetime:
    """The clock of governed writes: the real current instant, whatever the pin says.

    The same instant as :func:`wall_now`; a separate name so every governed stamp is easy to find
    and the reason it ignores ``CRYPTO_ANALYZER_FIXED_TIME`` is stated once, here.
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
    """Audit timestamp text: UTC, microseconds, ``Z`` suffix — fixed width so it sorts as text.

    Four-digit years always (``strftime("%Y")`` writes year 1 as ``1``); a datetime whose UTC form
    would leave years 1-9999 is a ValueError, never an ``OverflowError``.
    """
    return format_stamp(moment)


def from_iso(text: str) -> datetime:
    """Parse text written by :func:`to_iso`; any other form is a ValueError."""
    return parse_stamp(text)
