"""Fallback chain per data kind, with a last-known-good value marked degraded.

Providers are tried in order; one whose breaker is open, or that fails after its retries, hands over
to the next. When all fail, the last value this chain served for the same key may be returned —
flagged ``degraded`` with its original time — so a dashboard can keep showing something. A degraded
value is never a new observation: the ingest services refuse to store it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from crypto_analyzer.core.clock import now
from crypto_analyzer.ingest.providers.base import DataKind, MarketDataProvider
from crypto_analyzer.ingest.providers.errors import NoProviderAvailable, ProviderError
from crypto_analyzer.ingest.resilience.guard import GuardedProvider

__all__ = ["FallbackChain", "Served"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Served(Generic[T]):
    """A value and where it came from; ``degraded`` marks a last-known-good replay."""

    value: T
    provider: str
    fetched_at: datetime
    degraded: bool = False
    errors: tuple[str, ...] = ()


class FallbackChain(Generic[T]):
    """Ordered providers for one data kind."""

    def __init__(
        self,
        kind: DataKind,
        members: Sequence[GuardedProvider],
        *,
        clock: Callable[[], datetime] = now,
    ) -> None:
        usable = [member for member in members if kind in member.provider.capabilities]
        if not usable:
            names = ", ".join(member.name for member in members) or "none"
            raise ValueError(f"no provider among [{names}] offers {kind.value} data")
        self.kind = kind
        self.members = tuple(usable)
        self._clock = clock
        self._last_good: dict[str, Served[T]] = {}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(member.name for member in self.members)

    def fetch(self, key: str, function: Callable[[MarketDataProvider], T]) -> Served[T]:
        """First provider that delivers wins; else the last good value for ``key``, degraded."""
        errors: list[str] = []
        for member in self.members:
            try:
                value = member.call(self.kind, function)
            except ProviderError as exc:
                errors.append(str(exc))
                continue
            served = Served(value, member.name, self._clock(), False, tuple(errors))
            self._last_good[key] = Served(value, member.name, served.fetched_at)
            return served
        previous = self._last_good.get(key)
        if previous is not None:
            return Served(
                previous.value, previous.provider, previous.fetched_at, True, tuple(errors)
            )
        raise NoProviderAvailable(
            "+".join(self.names),
            f"no provider delivered {self.kind.value} for {key}: " + "; ".join(errors),
            "see `providers status`; the next cycle tries again",
        )
