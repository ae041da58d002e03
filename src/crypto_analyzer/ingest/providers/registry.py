"""Provider construction by name: ``dexscreener`` or any ccxt exchange id.

Base URLs are overridable per provider (``api_urls={"coinbase": "http://127.0.0.1:8080"}``) so the
same code runs against the real APIs and against the local replay server the tests start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.ingest.providers.base import MarketDataProvider, RateLimit
from crypto_analyzer.ingest.providers.ccxt_exchange import CcxtProvider
from crypto_analyzer.ingest.providers.dexscreener import DexscreenerProvider

__all__ = ["build_provider", "parse_api_urls"]


def build_provider(
    name: str,
    *,
    api_urls: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
    rate_limit: RateLimit | None = None,
) -> MarketDataProvider:
    """A provider for ``name``; ``api_urls`` may repoint it, ``rate_limit`` may override its own."""
    url = (api_urls or {}).get(name)
    if name == DexscreenerProvider.name:
        return DexscreenerProvider(api_url=url, timeout_s=timeout_s, rate_limit=rate_limit)
    return CcxtProvider(name, api_url=url, timeout_s=timeout_s, rate_limit=rate_limit)


def parse_api_urls(items: Sequence[str] | None) -> dict[str, str]:
    """``["coinbase=http://127.0.0.1:8080", …]`` → ``{"coinbase": "http://127.0.0.1:8080"}``."""
    urls: dict[str, str] = {}
    for item in items or ():
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise ValidationError(
                f"--api-url {item!r} is not NAME=URL",
                "e.g. --api-url coinbase=http://127.0.0.1:8080",
            )
        urls[name.strip()] = url.strip()
    return urls
