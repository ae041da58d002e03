"""Token-bucket rate limiter, one per provider.

The bucket holds up to ``burst`` tokens and refills at ``per_second``; a call takes one token and
waits for the deficit when the bucket is empty. Clock and sleep are injected so tests can run the
limiter on a fake clock instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from crypto_analyzer.ingest.providers.base import RateLimit

__all__ = ["TokenBucket"]


class TokenBucket:
    """Thread-safe token bucket for one provider's request budget."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(limit.burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until it is available; returns the seconds waited."""
        with self._lock:
            self._refill()
            wait = 0.0
            if self._tokens < 1.0:
                wait = (1.0 - self._tokens) / self.limit.per_second
                self._sleep(wait)
                self._refill()
                # A fake clock may not move during sleep; the token is owed either way.
                self._tokens = max(self._tokens, 1.0)
            self._tokens -= 1.0
            return wait

    def _refill(self) -> None:
        moment = self._clock()
        elapsed = max(0.0, moment - self._stamp)
        self._stamp = moment
        self._tokens = min(float(self.limit.burst), self._tokens + elapsed * self.limit.per_second)
