"""Centralized exchanges through ccxt — public market data only.

Research only (invariant 9): the exchange object is built without credentials and this module calls
nothing but :data:`PUBLIC_METHODS`; a test scans the package for any other ccxt call. ccxt's own
rate limiter is switched off because the resilience layer budgets requests per provider, and base
URLs can be pointed elsewhere (``api_url``) so tests drive the real ccxt code against a local
replay server.

ccxt returns the response *text* when a JSON body cannot be parsed, which would read as "no data";
the adapter subclass refuses that (a truncated body is a transient error) and remembers the HTTP
status of the last response so errors can be classified by status rather than by message text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar
from urllib.parse import urlsplit

import ccxt

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.ingest.frequencies import ccxt_timeframe
from crypto_analyzer.ingest.providers.base import DataKind, ProviderBase, RateLimit
from crypto_analyzer.ingest.providers.errors import (
    PermanentProviderError,
    TransientProviderError,
)
from crypto_analyzer.ingest.providers.http_status import error_for_status, parse_retry_after

__all__ = ["DEFAULT_EXCHANGES", "PUBLIC_METHODS", "CcxtProvider", "point_urls_at"]

DEFAULT_EXCHANGES = ("coinbase", "kraken")
PUBLIC_METHODS = frozenset(
    {"fetch_ohlcv", "fetch_ticker", "fetch_tickers", "fetch_time", "load_markets"}
)
"""The only ccxt methods this package calls: public market data."""

T = TypeVar("T")


class CcxtProvider(ProviderBase):
    """Candles and spot tickers from one ccxt exchange id (``coinbase``, ``kraken``, …)."""

    def __init__(
        self,
        exchange_id: str,
        *,
        api_url: str | None = None,
        timeout_s: float = 10.0,
        rate_limit: RateLimit | None = None,
    ) -> None:
        if exchange_id not in ccxt.exchanges:
            raise ValidationError(
                f"exchange {exchange_id!r} is not a ccxt exchange id",
                f"use e.g. {', '.join(DEFAULT_EXCHANGES)} (ccxt knows {len(ccxt.exchanges)})",
            )
        exchange = _strict_class(exchange_id)(
            {"enableRateLimit": False, "timeout": int(timeout_s * 1000)}
        )
        if exchange.apiKey or exchange.secret:
            raise ValidationError(f"{exchange_id} was configured with credentials; none allowed")
        if api_url:
            point_urls_at(exchange.urls, api_url)
        self.name = exchange_id
        self._exchange = exchange
        has = exchange.has
        kinds = {DataKind.CANDLES} if has.get("fetchOHLCV") else set()
        if has.get("fetchTicker") or has.get("fetchTickers"):
            kinds.add(DataKind.TICKERS)
        self.capabilities = frozenset(kinds)
        self.rate_limit = rate_limit or RateLimit(per_second=1000.0 / max(exchange.rateLimit, 1))
        self._markets_loaded = False

    def fetch_candles(self, symbol: str, freq: str, since_ms: int, limit: int) -> Any:
        timeframe = ccxt_timeframe(freq)
        if timeframe not in (self._exchange.timeframes or {}):
            raise PermanentProviderError(
                self.name,
                f"has no {freq} candles",
                f"available timeframes: {', '.join(self._exchange.timeframes or {})}",
            )
        self._load_markets()
        return self._call(self._exchange.fetch_ohlcv, symbol, timeframe, since_ms, limit)

    def fetch_tickers(self, symbols: Sequence[str]) -> Any:
        self._load_markets()
        wanted = list(symbols)
        if self._exchange.has.get("fetchTickers"):
            return self._call(self._exchange.fetch_tickers, wanted)
        return [self._call(self._exchange.fetch_ticker, symbol) for symbol in wanted]

    def close(self) -> None:
        session = getattr(self._exchange, "session", None)
        if session is not None:
            session.close()

    def _load_markets(self) -> None:
        if not self._markets_loaded:
            self._call(self._exchange.load_markets)
            self._markets_loaded = True

    def _call(self, method: Callable[..., T], *args: Any) -> T:
        exchange = self._exchange
        try:
            return method(*args)
        except ccxt.BadSymbol as exc:
            raise PermanentProviderError(
                self.name, f"symbol not listed: {_first_line(exc)}", "check --symbols"
            ) from exc
        except ccxt.RequestTimeout as exc:
            raise TransientProviderError(self.name, f"timed out: {_first_line(exc)}") from exc
        except (ccxt.BadResponse, ccxt.NullResponse) as exc:
            raise TransientProviderError(
                self.name, f"unreadable response: {_first_line(exc)}"
            ) from exc
        except ccxt.RateLimitExceeded as exc:
            raise TransientProviderError(
                self.name,
                f"rate limited: {_first_line(exc)}",
                status=exchange.last_status,
                retry_after=parse_retry_after(_retry_after(exchange)),
            ) from exc
        except ccxt.BaseError as exc:
            status = exchange.last_status
            if status is not None and status >= 400:
                raise error_for_status(
                    self.name, status, exchange.last_response_headers, method.__name__
                ) from exc
            if isinstance(exc, ccxt.NetworkError):
                raise TransientProviderError(self.name, f"network: {_first_line(exc)}") from exc
            raise PermanentProviderError(self.name, _first_line(exc)) from exc


def point_urls_at(urls: dict[str, Any], base_url: str) -> None:
    """Repoint every ``urls['api']`` entry at ``base_url``, keeping each entry's path."""
    target = urlsplit(base_url)
    if not target.scheme or not target.netloc:
        raise ValidationError(
            f"API URL {base_url!r} is not an absolute URL", "use e.g. http://127.0.0.1:8080"
        )
    prefix = base_url.rstrip("/")

    def repoint(value: Any) -> Any:
        if isinstance(value, str):
            return prefix + urlsplit(value).path
        if isinstance(value, dict):
            return {key: repoint(item) for key, item in value.items()}
        return value

    urls["api"] = repoint(urls.get("api", {}))


@cache
def _strict_class(exchange_id: str) -> type:
    base = getattr(ccxt, exchange_id)

    class Strict(base):  # type: ignore[misc, valid-type]
        last_status: int | None = None

        def on_rest_response(self, code: Any, reason: Any, *args: Any) -> Any:
            self.last_status = int(code) if code is not None else None
            return super().on_rest_response(code, reason, *args)

        def fetch(self, url: str, method: str = "GET", headers: Any = None, body: Any = None):
            self.last_status = None
            result = super().fetch(url, method, headers, body)
            if isinstance(result, str):
                raise ccxt.BadResponse(f"{self.id} {method} {url}: body is not valid JSON")
            return result

    Strict.__name__ = f"Strict{base.__name__}"
    return Strict


def _retry_after(exchange: Any) -> str | None:
    headers = exchange.last_response_headers or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            return value
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
