"""A real HTTP server on 127.0.0.1 that answers like Kraken, Coinbase and Dexscreener.

ccxt and the Dexscreener client talk to it over TCP exactly as they would to the venues: static
answers come from ``tests/fixtures/exchange_replay``; candle pages are generated from a seeded
random walk per symbol (so any ``since``/``limit`` window exists) in each venue's wire format,
including the still-open current candle that real venues return. Faults are queued per path
prefix: an HTTP status with headers (429 + Retry-After, 500), a slow answer past the client
timeout, a truncated body, or a replacement body (schema drift).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "exchange_replay"
HOUR_MS = 3_600_000

KRAKEN_PAIRS = {"XXBTZUSD": "BTC/USD", "XETHZUSD": "ETH/USD"}
COINBASE_PRODUCTS = {"BTC-USD": "BTC/USD", "ETH-USD": "ETH/USD"}
COINBASE_GRANULARITY = {"ONE_MINUTE": 60, "FIVE_MINUTE": 300, "FIFTEEN_MINUTE": 900,
                        "ONE_HOUR": 3600, "ONE_DAY": 86400}  # fmt: skip
START_PRICE = {"BTC/USD": 42_000.0, "ETH/USD": 2_300.0}


@dataclass
class Fault:
    """One scripted misbehaviour for the next request matching a path prefix."""

    kind: str  # "status" | "slow" | "truncate" | "body"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    body: bytes = b""


class Market:
    """Deterministic candles per (symbol, bar length) from ``start_ms`` up to the open bar."""

    def __init__(self, start_ms: int, now_ms: int, gaps: frozenset[int] = frozenset()) -> None:
        self.start_ms = start_ms
        self.now_ms = now_ms
        self.gaps = gaps
        self._cache: dict[tuple[str, int], np.ndarray] = {}

    def candles(self, symbol: str, step_ms: int, since_ms: int, until_ms: int) -> list[tuple]:
        """Bars with open time in ``[since_ms, until_ms)``; the newest may be the open one."""
        table = self._table(symbol, step_ms)
        first = max(since_ms, self.start_ms)
        rows = []
        for index in range(max(0, -(-(first - self.start_ms) // step_ms)), len(table)):
            opened = self.start_ms + index * step_ms
            if opened >= until_ms:
                break
            if opened in self.gaps:
                continue
            rows.append((opened, *table[index]))
        return rows

    def _table(self, symbol: str, step_ms: int) -> np.ndarray:
        key = (symbol, step_ms)
        if key not in self._cache:
            seed = int.from_bytes(
                hashlib.sha256(f"{symbol}|{step_ms}".encode()).digest()[:8], "big"
            )
            rng = np.random.Generator(np.random.PCG64(seed))
            n = (self.now_ms - self.start_ms) // step_ms + 1
            returns = rng.normal(0.0, 0.004, n)
            close = START_PRICE.get(symbol, 100.0) * np.exp(np.cumsum(returns))
            open_ = np.concatenate([[close[0] / np.exp(returns[0])], close[:-1]])
            high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.003, n))
            low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.003, n))
            volume = rng.uniform(5, 50, n)
            self._cache[key] = np.round(np.column_stack([open_, high, low, close, volume]), 6)
        return self._cache[key]


class Replay:
    """Routing, fixtures and the fault queue (shared with the handler threads)."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.log: list[str] = []
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.pairs = json.loads((FIXTURES / "dexscreener" / "pairs.json").read_text())["pairs"]

    def fault(self, prefix: str, *faults: Fault) -> None:
        with self._lock:
            self._faults[prefix].extend(faults)

    def count(self, prefix: str) -> int:
        with self._lock:
            return sum(1 for line in self.log if line.startswith(prefix))

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            self.log.append(path)
            for prefix, queue in self._faults.items():
                if path.startswith(prefix) and queue:
                    return queue.popleft()
        return None

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if path.startswith("/0/public/"):
            return self._kraken(path.removeprefix("/0/public/"), query)
        if path.startswith(("/v2/", "/api/v3/")):
            return self._coinbase(path, query)
        if path.startswith("/latest/dex/"):
            return self._dexscreener(path.removeprefix("/latest/dex/"), query)
        return 404, {"message": f"no route {path}"}

    # -- Kraken -----------------------------------------------------------------------------

    def _kraken(self, name: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if name in ("Assets", "AssetPairs"):
            file = "assets.json" if name == "Assets" else "asset_pairs.json"
            return 200, _fixture("kraken", file)
        if name == "Time":
            seconds = self.market.now_ms // 1000
            return 200, {"error": [], "result": {"unixtime": seconds, "rfc1123": ""}}
        if name == "Ticker":
            wanted = set(_one(query, "pair", "").split(","))
            result = _fixture("kraken", "ticker.json")["result"]
            return 200, {"error": [], "result": {k: v for k, v in result.items() if k in wanted}}
        if name == "OHLC":
            pair = _one(query, "pair", "")
            if pair not in KRAKEN_PAIRS:
                return 200, {"error": ["EQuery:Unknown asset pair"]}
            step = int(_one(query, "interval", "1")) * 60_000
            since = int(_one(query, "since", "0")) * 1000 + 1  # Kraken: strictly after since
            rows = self.market.candles(KRAKEN_PAIRS[pair], step, since, self.market.now_ms + 1)
            rows = rows[:720]
            page = [
                [t // 1000, *(_dec(v) for v in (o, h, lo, c)), _dec((o + c) / 2), _dec(vol), 7]
                for t, o, h, lo, c, vol in rows
            ]
            last = rows[-1][0] // 1000 if rows else since // 1000
            return 200, {"error": [], "result": {pair: page, "last": last}}
        return 200, {"error": [f"EGeneral:Unknown method {name}"]}

    # -- Coinbase ---------------------------------------------------------------------------

    def _coinbase(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        static = {
            "/v2/currencies": "currencies.json",
            "/v2/currencies/crypto": "currencies_crypto.json",
            "/v2/exchange-rates": "exchange_rates.json",
        }
        if path in static:
            return 200, _fixture("coinbase", static[path])
        if path == "/v2/time":
            seconds = self.market.now_ms // 1000
            return 200, {"data": {"iso": "", "epoch": seconds}}
        if path == "/api/v3/brokerage/market/products":
            if _one(query, "product_type", "SPOT") == "FUTURE":
                return 200, {"products": [], "num_products": 0}
            products = _fixture("coinbase", "products.json")
            wanted = query.get("product_ids")
            if wanted:
                products["products"] = [
                    p for p in products["products"] if p["product_id"] in set(wanted)
                ]
            return 200, products
        parts = path.split("/")
        if path.endswith("/candles") and len(parts) == 8:
            product = unquote(parts[6])
            if product not in COINBASE_PRODUCTS:
                return 404, {"error": "NOT_FOUND", "message": "product not found"}
            seconds = COINBASE_GRANULARITY[_one(query, "granularity", "ONE_HOUR")]
            start, end = int(_one(query, "start", "0")), int(_one(query, "end", "0"))
            if (end - start) // seconds > 350:
                return 400, {"error": "INVALID_ARGUMENT", "message": "more than 350 candles"}
            rows = self.market.candles(
                COINBASE_PRODUCTS[product], seconds * 1000, start * 1000, end * 1000 + 1
            )
            candles = [
                {"start": str(t // 1000), "low": _dec(lo), "high": _dec(h), "open": _dec(o),
                 "close": _dec(c), "volume": _dec(vol)}
                for t, o, h, lo, c, vol in reversed(rows)
            ]  # fmt: skip
            return 200, {"candles": candles}
        return 404, {"error": "NOT_FOUND", "message": path}

    # -- Dexscreener ------------------------------------------------------------------------

    def _dexscreener(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if path == "search":
            text = _one(query, "q", "").lower()
            found = [
                pair
                for pair in self.pairs
                if text
                in (
                    pair["baseToken"]["symbol"].lower(),
                    pair["quoteToken"]["symbol"].lower(),
                    pair["pairAddress"].lower(),
                )
            ]
            return 200, {"schemaVersion": "1.0.0", "pairs": found}
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == "pairs":
            chain, addresses = parts[1], set(unquote(parts[2]).split(","))
            found = [
                p for p in self.pairs if p["chainId"] == chain and p["pairAddress"] in addresses
            ]
            return 200, {"schemaVersion": "1.0.0", "pairs": found or None}
        return 404, {"error": "not found"}


class _Handler(BaseHTTPRequestHandler):
    replay: Replay
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        fault = self.replay.take_fault(self.path)
        status, payload = self.replay.answer(split.path, parse_qs(split.query))
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if fault is not None:
            if fault.kind == "status":
                status, body = fault.status, json.dumps({"error": "scripted"}).encode()
                headers.update(fault.headers)
            elif fault.kind == "slow":
                time.sleep(fault.delay_s)
            elif fault.kind == "truncate":
                body = body[: max(1, len(body) // 2)]
            elif fault.kind == "body":
                body = fault.body
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test); nothing to do

    def log_message(self, *args: Any) -> None:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (kill-safety test) resets its socket; that is expected.
        return None


class ReplayServer:
    """Context manager: a threaded server on an ephemeral 127.0.0.1 port."""

    def __init__(self, replay: Replay) -> None:
        handler = type("Handler", (_Handler,), {"replay": replay})
        self.replay = replay
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _fixture(venue: str, name: str) -> Any:
    return json.loads((FIXTURES / venue / name).read_text())


def _one(query: dict[str, list[str]], name: str, default: str) -> str:
    values = query.get(name)
    return values[0] if values else default


def _dec(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")
