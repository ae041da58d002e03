"""HTTP status → provider error, shared by the ccxt and Dexscreener adapters.

429 and 5xx (and 408) are transient; a ``Retry-After`` header (seconds or an HTTP date) is kept so
the retry policy waits at least that long. Other 4xx are permanent: the request itself is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from crypto_analyzer.core.clock import now
from crypto_analyzer.ingest.providers.errors import (
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)

__all__ = ["error_for_status", "parse_retry_after"]

_TRANSIENT_4XX = frozenset({408, 425, 429})


def parse_retry_after(value: str | None, *, clock: Callable[[], datetime] = now) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date); None if absent."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - clock()).total_seconds())


def error_for_status(
    provider: str, status: int, headers: Mapping[str, str] | None, detail: str
) -> ProviderError:
    """The provider error for a non-2xx response."""
    if status >= 500 or status in _TRANSIENT_4XX:
        retry_after = parse_retry_after(_header(headers, "Retry-After"))
        return TransientProviderError(
            provider,
            f"HTTP {status} from {detail}",
            "retrying with backoff",
            status=status,
            retry_after=retry_after,
        )
    return PermanentProviderError(
        provider,
        f"HTTP {status} from {detail}",
        "check the symbol, pair address or base URL",
        status=status,
    )


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None
