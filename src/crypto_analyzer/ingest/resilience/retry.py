"""Retries with exponential backoff and jitter (tenacity), honouring ``Retry-After``.

Only :class:`~crypto_analyzer.ingest.providers.errors.TransientProviderError` is retried. The wait
before attempt *k+1* is the server's ``Retry-After`` when it sent one, otherwise
``min(max_s, initial_s · 2^(k-1))`` plus a uniform jitter in ``[0, jitter_s)`` so that many clients
do not retry in lockstep. A ``Retry-After`` longer than ``max_retry_after_s`` stops retrying at
once: the caller (fallback chain, breaker) is better placed to decide than a long sleep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

import tenacity

from crypto_analyzer.ingest.providers.errors import TransientProviderError

__all__ = ["RetryPolicy", "call_with_retries"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one call before reporting a failure."""

    attempts: int = 4
    initial_s: float = 0.5
    max_s: float = 30.0
    jitter_s: float = 0.25
    max_retry_after_s: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {self.attempts}")
        if self.initial_s < 0 or self.max_s < 0 or self.jitter_s < 0:
            raise ValueError("initial_s, max_s and jitter_s must be >= 0")

    def wait_for(self, attempt: int, error: BaseException | None, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        backoff = min(self.max_s, self.initial_s * 2 ** (attempt - 1))
        return backoff + (rng.uniform(0.0, self.jitter_s) if self.jitter_s else 0.0)


def call_with_retries(
    function: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Run ``function`` under ``policy``; the last error propagates unchanged."""
    jitter = rng or random.Random()

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return policy.wait_for(state.attempt_number, error, jitter)

    def too_long(state: tenacity.RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        return retry_after is not None and retry_after > policy.max_retry_after_s

    def report(state: tenacity.RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None and state.next_action is not None:
            # Only failed attempts are retried (retry_if_exception_type), so there is an error.
            error = cast(BaseException, state.outcome.exception())
            on_retry(state.attempt_number, error, state.next_action.sleep)

    retrying = tenacity.Retrying(
        # tenacity calls any callable stop condition; its annotation of `|` names only stop_base.
        stop=tenacity.stop_after_attempt(policy.attempts) | too_long,  # type: ignore[operator]
        wait=wait,
        retry=tenacity.retry_if_exception_type(TransientProviderError),
        sleep=sleep,
        before_sleep=report,
        reraise=True,
    )
    return retrying(function)
