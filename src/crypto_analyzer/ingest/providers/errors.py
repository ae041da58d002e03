"""Provider failures, classified by what the caller should do about them.

The retry policy retries :class:`TransientProviderError` only (timeouts, 429, 5xx, truncated
bodies); a :class:`PermanentProviderError` (unknown symbol, 4xx) goes straight to the fallback
chain; the circuit breaker counts transient failures that survived their retries.
"""

from __future__ import annotations

from crypto_analyzer.core.errors import CryptoAnalyzerError

__all__ = [
    "CapabilityError",
    "CircuitOpenError",
    "NoProviderAvailable",
    "PermanentProviderError",
    "ProviderError",
    "TransientProviderError",
]


class ProviderError(CryptoAnalyzerError):
    """A market-data provider could not deliver; ``provider`` names which one."""

    def __init__(self, provider: str, problem: str, hint: str | None = None) -> None:
        self.provider = provider
        super().__init__(f"{provider}: {problem}", hint)


class TransientProviderError(ProviderError):
    """Worth retrying: timeouts, rate limiting, server errors, truncated or unreadable bodies.

    ``retry_after`` carries the server's ``Retry-After`` (seconds) when it sent one.
    """

    def __init__(
        self,
        provider: str,
        problem: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(provider, problem, hint)


class PermanentProviderError(ProviderError):
    """Retrying will not help (unknown symbol, client error); try another provider instead."""

    def __init__(
        self, provider: str, problem: str, hint: str | None = None, *, status: int | None = None
    ) -> None:
        self.status = status
        super().__init__(provider, problem, hint)


class CapabilityError(PermanentProviderError):
    """The provider does not offer this kind of data."""


class CircuitOpenError(ProviderError):
    """The provider's circuit breaker is open: calls are refused until the cooldown ends."""


class NoProviderAvailable(ProviderError):
    """Every provider of a fallback chain failed and no last-known-good value exists."""
