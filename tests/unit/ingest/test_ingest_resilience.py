"""Rate limiter, retry policy and circuit breaker on injected time (no real sleeping)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from crypto_analyzer.ingest.providers import (
    CircuitOpenError,
    PermanentProviderError,
    RateLimit,
    TransientProviderError,
)
from crypto_analyzer.ingest.providers.http_status import error_for_status, parse_retry_after
from crypto_analyzer.ingest.resilience import (
    BreakerConfig,
    CircuitBreaker,
    MemoryHealthStore,
    RetryPolicy,
    TokenBucket,
    call_with_retries,
)

T0 = datetime(2024, 3, 1, tzinfo=UTC)


class FakeTime:
    """A monotonic clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_token_bucket_allows_a_burst_then_paces_at_the_rate() -> None:
    time = FakeTime()
    bucket = TokenBucket(RateLimit(per_second=2.0, burst=3), clock=time.clock, sleep=time.sleep)
    waits = [bucket.acquire() for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == pytest.approx([0.5, 0.5, 0.5])
    time.now += 10.0  # idle: the bucket refills to its burst, not beyond
    assert [bucket.acquire() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 0.5])


def _flaky(errors: list[Exception]) -> object:
    calls = {"n": 0}

    def call() -> str:
        calls["n"] += 1
        if errors:
            raise errors.pop(0)
        return "ok"

    call.calls = calls  # type: ignore[attr-defined]
    return call


def test_retries_back_off_exponentially_with_bounded_jitter_and_honour_retry_after() -> None:
    slept: list[float] = []
    policy = RetryPolicy(attempts=5, initial_s=1.0, max_s=3.0, jitter_s=0.5)
    errors = [TransientProviderError("p", "t")] * 3 + [
        TransientProviderError("p", "429", retry_after=9.0)
    ]
    call = _flaky(list(errors))
    assert call_with_retries(call, policy, sleep=slept.append, rng=random.Random(1)) == "ok"
    assert 1.0 <= slept[0] < 1.5 and 2.0 <= slept[1] < 2.5 and 3.0 <= slept[2] < 3.5  # capped
    assert slept[3] == 9.0


def test_permanent_errors_are_not_retried_and_attempts_are_bounded() -> None:
    slept: list[float] = []
    call = _flaky([PermanentProviderError("p", "404")])
    with pytest.raises(PermanentProviderError):
        call_with_retries(call, RetryPolicy(), sleep=slept.append)
    assert call.calls["n"] == 1 and slept == []  # type: ignore[attr-defined]
    call = _flaky([TransientProviderError("p", "500")] * 10)
    with pytest.raises(TransientProviderError):
        call_with_retries(call, RetryPolicy(attempts=3), sleep=slept.append)
    assert call.calls["n"] == 3  # type: ignore[attr-defined]


def test_a_retry_after_beyond_the_limit_gives_up_instead_of_sleeping() -> None:
    slept: list[float] = []
    call = _flaky([TransientProviderError("p", "429", retry_after=3600.0), "never"])  # type: ignore[list-item]
    with pytest.raises(TransientProviderError, match="429"):
        call_with_retries(call, RetryPolicy(max_retry_after_s=60), sleep=slept.append)
    assert slept == []


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("-3", 0.0),
        ("Fri, 01 Mar 2024 00:00:30 GMT", 30.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_parses_seconds_and_http_dates(
    value: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(value, clock=lambda: T0) == seconds


def test_status_classification() -> None:
    assert isinstance(error_for_status("p", 503, {"retry-after": "2"}, "x"), TransientProviderError)
    assert error_for_status("p", 429, {"Retry-After": "4"}, "x").retry_after == 4.0  # type: ignore[attr-defined]
    assert isinstance(error_for_status("p", 408, None, "x"), TransientProviderError)
    assert isinstance(error_for_status("p", 400, None, "x"), PermanentProviderError)


def test_breaker_cycle_closed_open_half_open_closed() -> None:
    moment = {"t": T0}
    breaker = CircuitBreaker(
        MemoryHealthStore(),
        "p",
        "ohlcv",
        BreakerConfig(3, timedelta(seconds=30)),
        clock=lambda: moment["t"],
    )
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure("boom")
    assert breaker.state == "closed"
    breaker.record_failure("boom")
    assert breaker.state == "open"
    moment["t"] += timedelta(seconds=29)
    with pytest.raises(CircuitOpenError, match=r"after 3 failure\(s\): boom"):
        breaker.before_call()
    moment["t"] += timedelta(seconds=1)
    breaker.before_call()
    assert breaker.state == "half_open"
    breaker.record_failure("still down")
    assert breaker.state == "open"  # one failed trial reopens at once
    moment["t"] += timedelta(seconds=30)
    breaker.before_call()
    breaker.record_success()
    assert breaker.state == "closed"
