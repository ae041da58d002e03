"""Framing raw provider payloads for validation.

Providers hand back what the wire carried (ccxt candle lists, ccxt ticker dicts, Dexscreener pair
objects). These functions put a batch into one frame — typed columns where the shape allows, the raw
record in ``_raw`` and a shape problem in ``_reason`` — without deciding anything about values;
:mod:`crypto_analyzer.ingest.validation` does that. A payload that is not even the expected
container becomes one drifted record, so it is still counted and quarantined.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.ingest.cells import DICT, MISSING, NUMBER, TEXT, floats, kinds, non_empty_text
from crypto_analyzer.ingest.payloads import payload_digest
from crypto_analyzer.ingest.validation import CANDLE_FIELDS

__all__ = [
    "DEX_PAIR_FIELDS",
    "candle_rows_frame",
    "dex_instruments",
    "dex_pairs_frame",
    "records_of",
    "ticker_frame",
]

DEX_PAIR_FIELDS = {
    "chain": "chainId",
    "dex_id": "dexId",
    "pair_address": "pairAddress",
    "base": "baseToken.symbol",
    "quote": "quoteToken.symbol",
    "price": "priceUsd",
    "liquidity_usd": "liquidity.usd",
    "volume_24h": "volume.h24",
    "buys_24h": "txns.h24.buys",
    "sells_24h": "txns.h24.sells",
}
"""Our column ← Dexscreener pair field (dotted paths into nested objects)."""

_CANDLE_SHAPE = "schema_drift: candle is not a list [time, open, high, low, close, volume]"
_TICKER_SHAPE = "schema_drift: ticker is not an object"
_PAIR_SHAPE = "schema_drift: pair is not an object"


def records_of(payload: Any, shape_reason: str) -> tuple[list[Any], str | None]:
    """The records of a list payload, or the whole payload as one record with a drift reason."""
    if isinstance(payload, list):
        return payload, None
    return [payload], shape_reason


def candle_rows_frame(rows: Any, *, instrument_id: str, freq: str) -> pd.DataFrame:
    """ccxt-style ``[ms, open, high, low, close, volume]`` rows of one instrument."""
    records, whole = records_of(rows, "schema_drift: candle page is not a list")
    raw = np.empty(len(records), dtype=object)
    raw[:] = records
    is_list = np.isin(np.fromiter(map(type, raw), dtype=object, count=len(raw)), _SEQUENCES)
    lengths = np.zeros(len(raw), dtype=np.int64)
    if is_list.any():
        lengths[is_list] = np.fromiter(map(len, raw[is_list]), dtype=np.int64)
    good = is_list & (lengths == len(CANDLE_FIELDS))
    fields = list(CANDLE_FIELDS)
    if good.all():
        frame = pd.DataFrame(list(raw), columns=fields, dtype=object)
    else:
        frame = pd.DataFrame(list(raw[good]), columns=fields, dtype=object)
        frame.index = np.flatnonzero(good)
        frame = frame.reindex(range(len(raw)))
    frame.insert(0, "instrument_id", instrument_id)
    frame.insert(1, "freq", freq)
    frame["_raw"] = raw
    # numpy's stubs reject None as np.where's x/y (here and below); the result is an object array.
    frame["_reason"] = np.where(good, None, whole or _CANDLE_SHAPE)  # type: ignore[call-overload]
    return frame


_SEQUENCES = np.array([list, tuple], dtype=object)


def ticker_frame(tickers: Any, *, venue: str, fetched_ms: int) -> pd.DataFrame:
    """ccxt ticker structures (a list, or the ``{symbol: ticker}`` dict of ``fetch_tickers``)."""
    payload = list(tickers.values()) if isinstance(tickers, Mapping) else tickers
    records, whole = records_of(payload, "schema_drift: ticker payload is not a list")
    raw = _objects(records)
    is_dict = kinds(raw) == DICT
    field = {name: _dig(raw, is_dict, name) for name in _TICKER_FIELDS}
    symbol = field["symbol"]
    observed = np.where(kinds(field["timestamp"]) == MISSING, fetched_ms, field["timestamp"])
    price = np.where(kinds(field["last"]) == MISSING, field["close"], field["last"])
    frame = pd.DataFrame(
        {
            "instrument_id": _joined(f"{venue}:", symbol),
            "observed_ms": observed,
            "price": price,
            "bid": field["bid"],
            "ask": field["ask"],
            "volume_24h": _quote_volume(field),
            "symbol": symbol,
        },
        dtype=object,
    )
    return _finish(frame, raw, np.where(is_dict, None, whole or _TICKER_SHAPE))  # type: ignore[call-overload]


def dex_pairs_frame(payload: Any, *, fetched_ms: int) -> pd.DataFrame:
    """Dexscreener ``{"schemaVersion": …, "pairs": [pair, …]}`` (pairs and search endpoints)."""
    pairs, whole = _pairs_of(payload)
    raw = _objects(pairs)
    is_dict = kinds(raw) == DICT
    field = {ours: _dig(raw, is_dict, path) for ours, path in DEX_PAIR_FIELDS.items()}
    has_key = non_empty_text(field["chain"]) & non_empty_text(field["pair_address"])
    instrument = np.full(len(raw), None, dtype=object)
    if has_key.any():
        instrument[has_key] = [
            f"dex:{chain}:{address}"
            for chain, address in zip(
                field["chain"][has_key], field["pair_address"][has_key], strict=True
            )
        ]
    frame = pd.DataFrame(
        {
            "instrument_id": instrument,
            "observed_ms": fetched_ms,
            "price": _decimal_text(field["price"]),
            "volume_24h": field["volume_24h"],
            "liquidity_usd": field["liquidity_usd"],
            "txn_count_24h": _sum_counts(field["buys_24h"], field["sells_24h"]),
            **{name: field[name] for name in ("chain", "dex_id", "pair_address", "base", "quote")},
        },
        dtype=object,
    )
    reasons = np.where(is_dict, None, _PAIR_SHAPE).astype(object)  # type: ignore[call-overload]
    reasons[is_dict & ~has_key] = "schema_drift: pair lacks chainId/pairAddress text"
    if whole is not None:
        reasons[:] = whole
    return _finish(frame, raw, reasons)


def dex_instruments(accepted: pd.DataFrame) -> pd.DataFrame:
    """Instrument rows for accepted DEX pair snapshots (one per pair)."""
    unique = accepted.drop_duplicates("instrument_id")
    base, quote, dex = (unique[name].to_numpy(dtype=object) for name in ("base", "quote", "dex_id"))
    base = np.where(non_empty_text(base), base, None)
    quote = np.where(non_empty_text(quote), quote, None)
    symbol = [f"{b or '?'}/{q or '?'}" for b, q in zip(base, quote, strict=True)]
    return pd.DataFrame(
        {
            "instrument_id": unique["instrument_id"].to_numpy(dtype=object),
            "venue": np.where(non_empty_text(dex), dex, "dex"),
            "symbol": symbol,
            "base": base,
            "quote": quote,
            "kind": "dex_pair",
            "chain": unique["chain"].to_numpy(dtype=object),
            "pair_address": unique["pair_address"].to_numpy(dtype=object),
        }
    )


# -- helpers ------------------------------------------------------------------------------

_TICKER_FIELDS = ("symbol", "timestamp", "last", "close", "bid", "ask", "quoteVolume", "baseVolume")


def _objects(records: list[Any]) -> np.ndarray:
    out = np.empty(len(records), dtype=object)
    out[:] = records
    return out


def _finish(frame: pd.DataFrame, raw: np.ndarray, reasons: np.ndarray) -> pd.DataFrame:
    frame["payload_sha256"] = np.fromiter(map(payload_digest, raw), dtype=object, count=len(raw))
    frame["_raw"] = raw
    frame["_reason"] = reasons
    return frame


def _pairs_of(payload: Any) -> tuple[list[Any], str | None]:
    if isinstance(payload, dict):
        pairs = payload.get("pairs", payload.get("pair", _ABSENT))
        if pairs is None:
            return [], None  # the documented "not found" answer
        if isinstance(pairs, list):
            return pairs, None
        if isinstance(pairs, dict):
            return [pairs], None
    return [payload], "schema_drift: payload has no 'pairs' list"


_ABSENT = object()


def _dig(raw: np.ndarray, is_dict: np.ndarray, path: str) -> np.ndarray:
    """The value at a dotted path in each object (None where any step is missing)."""
    values = np.where(is_dict, raw, None)  # type: ignore[call-overload]
    for key in path.split("."):
        values = np.fromiter(map(_step, values, repeat(key)), dtype=object, count=len(values))
    return values


def _step(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _joined(prefix: str, symbol: np.ndarray) -> np.ndarray:
    out = np.full(len(symbol), None, dtype=object)
    text = non_empty_text(symbol)
    if text.any():
        out[text] = np.char.add(prefix, symbol[text].astype(str)).astype(object)
    return out


def _decimal_text(values: np.ndarray) -> np.ndarray:
    """Decimal strings (how Dexscreener sends prices) to floats; other cells pass through."""
    out = values.copy()
    text = kinds(values) == TEXT
    if text.any():
        parsed = pd.to_numeric(pd.Series(values[text]), errors="coerce").to_numpy(np.float64)
        usable = np.flatnonzero(text)[~np.isnan(parsed)]
        out[usable] = parsed[~np.isnan(parsed)]
    return out


def _quote_volume(field: dict[str, np.ndarray]) -> np.ndarray:
    """24 h quote volume: ``quoteVolume``, else ``baseVolume × last`` when both are numbers."""
    quote = field["quoteVolume"]
    out = quote.copy()
    estimate = (kinds(quote) == MISSING) & (kinds(field["baseVolume"]) == NUMBER)
    estimate &= kinds(field["last"]) == NUMBER
    if estimate.any():
        out[estimate] = floats(field["baseVolume"][estimate]) * floats(field["last"][estimate])
    return out


def _sum_counts(buys: np.ndarray, sells: np.ndarray) -> np.ndarray:
    """buys + sells when both are numbers; a non-number is passed on so validation flags it."""
    buy_kind, sell_kind = kinds(buys), kinds(sells)
    out = np.full(len(buys), None, dtype=object)
    both = (buy_kind == NUMBER) & (sell_kind == NUMBER)
    if both.any():
        out[both] = floats(buys[both]) + floats(sells[both])
    bad_sells = (sell_kind != NUMBER) & (sell_kind != MISSING)
    bad_buys = (buy_kind != NUMBER) & (buy_kind != MISSING)
    out[bad_sells] = sells[bad_sells]
    out[bad_buys] = buys[bad_buys]
    return out
