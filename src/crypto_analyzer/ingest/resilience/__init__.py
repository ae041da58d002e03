"""Resilience for provider calls: retries, rate limits, circuit breakers, fallback chains."""

from __future__ import annotations

from crypto_analyzer.ingest.resilience.breaker import (
    BreakerConfig,
    CircuitBreaker,
    DatabaseHealthStore,
    HealthRecord,
    HealthStore,
    MemoryHealthStore,
)
from crypto_analyzer.ingest.resilience.fallback import FallbackChain, Served
from crypto_analyzer.ingest.resilience.guard import GuardedProvider, Resilience
from crypto_analyzer.ingest.resilience.rate_limit import TokenBucket
from crypto_analyzer.ingest.resilience.retry import RetryPolicy, call_with_retries

__all__ = [
    "BreakerConfig",
    "CircuitBreaker",
    "DatabaseHealthStore",
    "FallbackChain",
    "GuardedProvider",
    "HealthRecord",
    "HealthStore",
    "MemoryHealthStore",
    "Resilience",
    "RetryPolicy",
    "Served",
    "TokenBucket",
    "call_with_retries",
]
