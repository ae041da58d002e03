"""A provider wrapped in its rate limiter, retry policy and per-kind circuit breakers.

Every call a service makes to a provider goes through :meth:`GuardedProvider.call`: the breaker is
asked first, each attempt takes a rate-limit token, transient errors are retried, and the outcome
(after retries) is recorded on the breaker. Permanent errors (unknown symbol, 4xx) pass through
without counting against the provider's health: they say nothing about whether it is up.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from crypto_analyzer.core.clock import now
from crypto_analyzer.ingest.providers.base import DataKind, MarketDataProvider
from crypto_analyzer.ingest.providers.errors import TransientProviderError
from crypto_analyzer.ingest.resilience.breaker import (
    BreakerConfig,
    CircuitBreaker,
    HealthStore,
    MemoryHealthStore,
)
from crypto_analyzer.ingest.resilience.rate_limit import TokenBucket
from crypto_analyzer.ingest.resilience.retry import RetryPolicy, call_with_retries

__all__ = ["GuardedProvider", "Resilience"]

T = TypeVar("T")


class Resilience:
    """Shared settings for guarding providers: policies, store, and injectable time."""

    def __init__(
        self,
        *,
        store: HealthStore | None = None,
        retry: RetryPolicy | None = None,
        breaker: BreakerConfig | None = None,
        clock: Callable[[], datetime] = now,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store or MemoryHealthStore()
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or BreakerConfig()
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        self.rng = rng or random.Random()

    def guard(self, provider: MarketDataProvider) -> GuardedProvider:
        return GuardedProvider(provider, self)


class GuardedProvider:
    """One provider with its token bucket and a breaker per data kind."""

    def __init__(self, provider: MarketDataProvider, resilience: Resilience) -> None:
        self.provider = provider
        self._resilience = resilience
        self._bucket = TokenBucket(
            provider.rate_limit, clock=resilience.monotonic, sleep=resilience.sleep
        )
        self._breakers: dict[DataKind, CircuitBreaker] = {}

    @property
    def name(self) -> str:
        return self.provider.name

    def breaker(self, kind: DataKind) -> CircuitBreaker:
        if kind not in self._breakers:
            settings = self._resilience
            self._breakers[kind] = CircuitBreaker(
                settings.store, self.name, kind.value, settings.breaker, clock=settings.clock
            )
        return self._breakers[kind]

    def call(self, kind: DataKind, function: Callable[[MarketDataProvider], T]) -> T:
        """Run ``function(provider)`` under the breaker, the rate limit and the retry policy."""
        breaker = self.breaker(kind)
        breaker.before_call()
        settings = self._resilience

        def attempt() -> T:
            self._bucket.acquire()
            return function(self.provider)

        try:
            result = call_with_retries(
                attempt, settings.retry, sleep=settings.sleep, rng=settings.rng
            )
        except TransientProviderError as exc:
            breaker.record_failure(str(exc))
            raise
        breaker.record_success()
        return result

    def close(self) -> None:
        self.provider.close()
