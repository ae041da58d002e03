"""The provider contract: one small protocol for candles, spot tickers and DEX pair snapshots.

A provider returns what the source sent (ccxt candle lists and ticker dicts, Dexscreener JSON) and
never validates or writes: :mod:`~crypto_analyzer.ingest.parsing` frames the payload and
:mod:`~crypto_analyzer.ingest.validation` decides. Keeping providers this thin is what lets every
source — exchanges, Dexscreener, files, the synthetic market — share one ingest path.

Each provider declares its ``name`` (the ``provider`` stamped on rows), its ``capabilities`` and its
``rate_limit``, so the resilience layer can budget calls without knowing the source.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from crypto_analyzer.ingest.providers.errors import CapabilityError

__all__ = ["DataKind", "MarketDataProvider", "ProviderBase", "RateLimit"]


class DataKind(enum.StrEnum):
    """Kinds of market data; the value is the ``data_kind`` stored in health and reject rows."""

    CANDLES = "ohlcv"
    TICKERS = "ticker"
    DEX_PAIRS = "dex_pair"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A provider's request budget: a sustained rate and the burst it tolerates."""

    per_second: float
    burst: int = 1

    def __post_init__(self) -> None:
        if not self.per_second > 0:
            raise ValueError(f"per_second must be > 0, got {self.per_second}")
        if self.burst < 1:
            raise ValueError(f"burst must be >= 1, got {self.burst}")


@runtime_checkable
class MarketDataProvider(Protocol):
    """What the ingest services need from a source; unsupported kinds raise CapabilityError."""

    name: str
    capabilities: frozenset[DataKind]
    rate_limit: RateLimit

    def fetch_candles(self, symbol: str, freq: str, since_ms: int, limit: int) -> Any:
        """One page of ``[ms, open, high, low, close, volume]`` rows from ``since_ms`` on."""
        ...

    def fetch_tickers(self, symbols: Sequence[str]) -> Any:
        """Spot tickers (ccxt ticker structures) for unified ``BASE/QUOTE`` symbols."""
        ...

    def fetch_dex_pairs(self, chain: str, addresses: Sequence[str]) -> Any:
        """Pair snapshots by chain and pair address (the raw JSON payload)."""
        ...

    def search_dex_pairs(self, query: str) -> Any:
        """Pairs matching a text query, for universe discovery (the raw JSON payload)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class ProviderBase:
    """Refuses every kind; concrete providers override what they offer."""

    name: str = "provider"
    capabilities: frozenset[DataKind] = frozenset()
    rate_limit: RateLimit = RateLimit(1.0)

    def _refuse(self, kind: DataKind) -> CapabilityError:
        offered = ", ".join(sorted(self.capabilities)) or "nothing"
        return CapabilityError(self.name, f"does not provide {kind.value} data (offers {offered})")

    def fetch_candles(self, symbol: str, freq: str, since_ms: int, limit: int) -> Any:
        raise self._refuse(DataKind.CANDLES)

    def fetch_tickers(self, symbols: Sequence[str]) -> Any:
        raise self._refuse(DataKind.TICKERS)

    def fetch_dex_pairs(self, chain: str, addresses: Sequence[str]) -> Any:
        raise self._refuse(DataKind.DEX_PAIRS)

    def search_dex_pairs(self, query: str) -> Any:
        raise self._refuse(DataKind.DEX_PAIRS)

    def close(self) -> None:
        return None
