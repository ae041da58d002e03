"""Bar frequencies: one spelling in the database, translated at the edges.

Bars are stored under pandas-style labels (``5min``, ``1h``, ``1D``) because research code
resamples with pandas; exchanges speak ccxt timeframes (``5m``, ``1h``, ``1d``). Keeping the table
here means a user may type either spelling and every module agrees on the bar length in ms.
"""

from __future__ import annotations

from types import MappingProxyType

from crypto_analyzer.core.errors import ValidationError

__all__ = ["CCXT_TIMEFRAMES", "FREQ_MS", "MATERIALIZE_FREQS", "ccxt_timeframe", "parse_freq"]

FREQ_MS = MappingProxyType(
    {
        "1min": 60_000,
        "5min": 300_000,
        "15min": 900_000,
        "1h": 3_600_000,
        "4h": 14_400_000,
        "1D": 86_400_000,
    }
)
"""Bar length in milliseconds per stored frequency label."""

CCXT_TIMEFRAMES = MappingProxyType(
    {"1min": "1m", "5min": "5m", "15min": "15m", "1h": "1h", "4h": "4h", "1D": "1d"}
)
"""ccxt timeframe string per stored label."""

MATERIALIZE_FREQS = ("5min", "15min", "1h", "1D")
"""Frequencies ``materialize bars`` builds (the research grid)."""

_ALIASES = {
    **{label: label for label in FREQ_MS},
    **{timeframe: label for label, timeframe in CCXT_TIMEFRAMES.items()},
    "60min": "1h",
    "1H": "1h",
    "24h": "1D",
    "1day": "1D",
}


def parse_freq(text: str, *, allowed: tuple[str, ...] | None = None) -> str:
    """Normalise a user-typed frequency (``1h``, ``1d``, ``5m``…) to its stored label."""
    label = _ALIASES.get(text.strip()) if isinstance(text, str) else None
    choices = allowed or tuple(FREQ_MS)
    if label is None or label not in choices:
        raise ValidationError(
            f"frequency {text!r} is not supported", f"use one of {', '.join(choices)}"
        )
    return label


def ccxt_timeframe(label: str) -> str:
    """The ccxt timeframe for a stored frequency label."""
    return CCXT_TIMEFRAMES[parse_freq(label)]
