"""Instrument identities for exchange symbols: ``<venue>:<BASE>/<QUOTE>``.

The id names the venue because the same pair on two exchanges is two price series; research code
can still group by ``base``/``quote``. DEX pairs use ``dex:<chain>:<pair address>`` (see
:mod:`~crypto_analyzer.ingest.parsing`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from crypto_analyzer.core.errors import ValidationError

__all__ = ["exchange_instruments", "instrument_id", "parse_symbols"]


def instrument_id(venue: str, symbol: str) -> str:
    """``coinbase`` + ``BTC/USD`` → ``coinbase:BTC/USD``."""
    return f"{venue}:{symbol}"


def parse_symbols(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"BTC/USD, ETH/USD"`` → ``("BTC/USD", "ETH/USD")``, refusing non-unified symbols."""
    items = text.split(",") if isinstance(text, str) else list(text)
    symbols = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    bad = [symbol for symbol in symbols if symbol.count("/") != 1 or symbol.startswith("/")]
    if bad or not symbols:
        raise ValidationError(
            f"symbols {', '.join(bad) or '(none)'} are not unified BASE/QUOTE symbols",
            "pass e.g. --symbols BTC/USD,ETH/USD",
        )
    return symbols


def exchange_instruments(venue: str, symbols: Sequence[str]) -> pd.DataFrame:
    """Instrument rows (spot) for unified symbols on one venue."""
    base = [symbol.split("/")[0] for symbol in symbols]
    quote = [symbol.split("/")[1].split(":")[0] for symbol in symbols]
    return pd.DataFrame(
        {
            "instrument_id": [instrument_id(venue, symbol) for symbol in symbols],
            "venue": venue,
            "symbol": list(symbols),
            "base": base,
            "quote": quote,
            "kind": "spot",
        }
    )
