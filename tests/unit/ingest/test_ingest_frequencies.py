"""Frequency spellings."""

from __future__ import annotations

import pytest

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.ingest.frequencies import ccxt_timeframe, parse_freq
from crypto_analyzer.ingest.instruments import parse_symbols


@pytest.mark.parametrize(
    ("text", "label"),
    [("1h", "1h"), ("1H", "1h"), ("1d", "1D"), ("5m", "5min"), ("15min", "15min")],
)
def test_user_spellings_map_to_stored_labels(text: str, label: str) -> None:
    assert parse_freq(text) == label


def test_unknown_and_disallowed_frequencies_are_refused_with_the_choices() -> None:
    with pytest.raises(ValidationError, match="use one of 1min, 5min"):
        parse_freq("7m")
    with pytest.raises(ValidationError, match="use one of 5min, 15min, 1h, 1D"):
        parse_freq("4h", allowed=("5min", "15min", "1h", "1D"))
    assert ccxt_timeframe("1D") == "1d"


def test_symbols_are_deduplicated_and_must_be_unified() -> None:
    assert parse_symbols(" BTC/USD, ETH/USD,BTC/USD ") == ("BTC/USD", "ETH/USD")
    with pytest.raises(ValidationError, match="BTCUSD"):
        parse_symbols("BTCUSD")
