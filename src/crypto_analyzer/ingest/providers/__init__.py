"""Market-data providers: ccxt exchanges, Dexscreener, behind one small protocol."""

from __future__ import annotations

from crypto_analyzer.ingest.providers.base import (
    DataKind,
    MarketDataProvider,
    ProviderBase,
    RateLimit,
)
from crypto_analyzer.ingest.providers.ccxt_exchange import DEFAULT_EXCHANGES, CcxtProvider
from crypto_analyzer.ingest.providers.dexscreener import DexscreenerProvider
from crypto_analyzer.ingest.providers.errors import (
    CapabilityError,
    CircuitOpenError,
    NoProviderAvailable,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from crypto_analyzer.ingest.providers.registry import build_provider, parse_api_urls

__all__ = [
    "DEFAULT_EXCHANGES",
    "CapabilityError",
    "CcxtProvider",
    "CircuitOpenError",
    "DataKind",
    "DexscreenerProvider",
    "MarketDataProvider",
    "NoProviderAvailable",
    "PermanentProviderError",
    "ProviderBase",
    "ProviderError",
    "RateLimit",
    "TransientProviderError",
    "build_provider",
    "parse_api_urls",
]
