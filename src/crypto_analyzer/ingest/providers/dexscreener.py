"""DEX pair snapshots from the Dexscreener public HTTP API (httpx, no key).

Endpoints used (their documented public API): ``GET /latest/dex/pairs/{chainId}/{pairAddresses}``
(up to :data:`MAX_PAIRS_PER_REQUEST` comma-separated addresses) and ``GET /latest/dex/search?q=…``;
both answer ``{"schemaVersion": …, "pairs": [pair, …]}`` (``pairs`` is null when nothing matched).
The documented budget for these endpoints is 300 requests per minute, declared as the provider's
rate limit. The adapter returns the parsed JSON untouched; prices arrive as decimal strings and are
converted, checked and digested downstream.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from crypto_analyzer.ingest.providers.base import DataKind, ProviderBase, RateLimit
from crypto_analyzer.ingest.providers.errors import TransientProviderError
from crypto_analyzer.ingest.providers.http_status import error_for_status

__all__ = ["DEFAULT_API_URL", "MAX_PAIRS_PER_REQUEST", "DexscreenerProvider"]

DEFAULT_API_URL = "https://api.dexscreener.com"
MAX_PAIRS_PER_REQUEST = 30
_NAME = "dexscreener"


class DexscreenerProvider(ProviderBase):
    """Pair snapshots by chain/address, and pair search for universe discovery."""

    name = _NAME
    capabilities = frozenset({DataKind.DEX_PAIRS})

    def __init__(
        self,
        *,
        api_url: str | None = None,
        timeout_s: float = 10.0,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.rate_limit = rate_limit or RateLimit(per_second=300 / 60, burst=5)
        self._client = httpx.Client(
            base_url=(api_url or DEFAULT_API_URL).rstrip("/"),
            timeout=timeout_s,
            headers={"Accept": "application/json", "User-Agent": "crypto-analyzer (research)"},
            follow_redirects=False,
        )

    def fetch_dex_pairs(self, chain: str, addresses: Sequence[str]) -> Any:
        chosen = list(addresses)
        if not chosen or len(chosen) > MAX_PAIRS_PER_REQUEST:
            raise ValueError(
                f"pass 1..{MAX_PAIRS_PER_REQUEST} pair addresses per request, got {len(chosen)}"
            )
        joined = ",".join(quote(address, safe="") for address in chosen)
        return self._get(f"/latest/dex/pairs/{quote(chain, safe='')}/{joined}")

    def search_dex_pairs(self, query: str) -> Any:
        return self._get("/latest/dex/search", params={"q": query})

    def close(self) -> None:
        self._client.close()

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = self._client.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise TransientProviderError(_NAME, f"timed out on {path}") from exc
        except httpx.TransportError as exc:
            raise TransientProviderError(_NAME, f"network error on {path}: {exc}") from exc
        if response.status_code >= 400:
            raise error_for_status(_NAME, response.status_code, response.headers, path)
        try:
            return json.loads(response.content)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise TransientProviderError(
                _NAME, f"body of {path} is not valid JSON (truncated?)", status=response.status_code
            ) from exc
