"""Batch validation: each rule, its precedence, and the accounting invariant."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crypto_analyzer.ingest.parsing import candle_rows_frame, dex_pairs_frame, ticker_frame
from crypto_analyzer.ingest.validation import check_candles, check_snapshots

H = 3_600_000
NOW = 100 * H + 1_800_000  # half-way through bar 100
GOOD = [5 * H, 10.0, 11.0, 9.0, 10.5, 3.0]


def _check(*rows: object) -> tuple[list[int], list[str]]:
    frame = candle_rows_frame(list(rows), instrument_id="x:BTC/USD", freq="1h")
    checked = check_candles(frame, freq_ms=H, now_ms=NOW)
    assert len(checked.accepted) + len(checked.rejects) == checked.received == len(rows)
    return list(checked.accepted["bar_open_ms"]), [r.reason.split(":")[0] for r in checked.rejects]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ([5 * H, 0.0, 11.0, 9.0, 10.5, 3.0], "non_positive_price"),
        ([5 * H, -1.0, 11.0, 9.0, 10.5, 3.0], "non_positive_price"),
        ([5 * H, math.nan, 11.0, 9.0, 10.5, 3.0], "non_finite_value"),
        ([5 * H, 10.0, math.inf, 9.0, 10.5, 3.0], "non_finite_value"),
        ([5 * H, 10.0, 8.0, 9.0, 8.5, 3.0], "high_below_low"),
        ([5 * H, 10.0, 11.0, 9.0, 12.0, 3.0], "close_outside_range"),
        ([5 * H, 8.0, 11.0, 9.0, 10.0, 3.0], "open_outside_range"),
        ([5 * H, 10.0, 11.0, 9.0, 10.5, -0.1], "negative_volume"),
        ([5 * H + 1, 10.0, 11.0, 9.0, 10.5, 3.0], "misaligned_timestamp"),
        ([101 * H, 10.0, 11.0, 9.0, 10.5, 3.0], "future_timestamp"),
        ([100 * H, 10.0, 11.0, 9.0, 10.5, 3.0], "open_candle"),
        ([5 * H, "10", 11.0, 9.0, 10.5, 3.0], "schema_drift"),
        ([5 * H, True, 11.0, 9.0, 10.5, 3.0], "schema_drift"),
        ([5 * H, None, 11.0, 9.0, 10.5, 3.0], "schema_drift"),
        ([5 * H, 10.0, 11.0, 9.0, 10.5], "schema_drift"),
        ({"t": 5 * H}, "schema_drift"),
        ([-H, 10.0, 11.0, 9.0, 10.5, 3.0], "timestamp_out_of_range"),
        ([5.5 * H, 10.0, 11.0, 9.0, 10.5, 3.0], "misaligned_timestamp"),
        ([2**80, 10.0, 11.0, 9.0, 10.5, 3.0], "timestamp_out_of_range"),
        ([5 * H, 10**400, 11.0, 9.0, 10.5, 3.0], "non_finite_value"),
    ],
)
def test_each_rule_quarantines_with_its_reason(row: object, reason: str) -> None:
    assert _check(row) == ([], [reason])


def test_duplicates_keep_the_first_and_out_of_order_rows_are_refused() -> None:
    accepted, reasons = _check(
        [1 * H, 10.0, 11.0, 9.0, 10.5, 1.0],
        [3 * H, 10.0, 11.0, 9.0, 10.5, 2.0],
        [3 * H, 10.0, 11.0, 9.0, 10.5, 9.0],
        [2 * H, 10.0, 11.0, 9.0, 10.5, 3.0],
        [4 * H, 10.0, 11.0, 9.0, 10.5, 4.0],
    )
    assert accepted == [1 * H, 3 * H, 4 * H]
    assert reasons == ["duplicate_timestamp", "out_of_order_timestamp"]


def test_a_bad_row_does_not_make_its_neighbours_out_of_order() -> None:
    accepted, reasons = _check([9 * H, -1.0, 1.0, 1.0, 1.0, 1.0], GOOD)
    assert accepted == [5 * H] and reasons == ["non_positive_price"]


def test_order_rules_are_per_instrument() -> None:
    frame = pd.DataFrame(
        {
            "instrument_id": ["a", "b", "a", "b", "a"],
            "bar_open_ms": np.array([2, 5, 1, 6, 2], dtype=np.int64) * H,
            **{name: 10.0 for name in ("open", "high", "low", "close")},
            "volume": 1.0,
        }
    )
    checked = check_candles(frame, freq_ms=H, now_ms=None)
    kept = zip(checked.accepted["instrument_id"], checked.accepted["bar_open_ms"] // H, strict=True)
    assert list(kept) == [("a", 2), ("b", 5), ("b", 6)]
    assert sorted(r.reason.split(":")[0] for r in checked.rejects) == [
        "duplicate_timestamp",
        "out_of_order_timestamp",
    ]


def test_a_payload_that_is_not_a_list_is_one_quarantined_record() -> None:
    checked = check_candles(
        candle_rows_frame({"error": "nope"}, instrument_id="x", freq="1h"), freq_ms=H, now_ms=NOW
    )
    assert checked.received == 1 and checked.accepted.empty
    assert checked.rejects[0].reason == "schema_drift: candle page is not a list"
    assert checked.rejects[0].raw_payload == '{"error":"nope"}'


def test_typed_frames_take_the_fast_path_with_the_same_rules() -> None:
    frame = pd.DataFrame(
        {
            "instrument_id": "s:A",
            "bar_open_ms": np.arange(4, dtype=np.int64) * H,
            "open": [1.0, 1.0, 1.0, 1.0],
            "high": [2.0, 2.0, 0.5, 2.0],
            "low": [0.5, 0.5, 0.6, 0.5],
            "close": [1.5, 1.5, 0.55, 1.5],
            "volume": [1.0, np.nan, 1.0, 1.0],
            "vwap": [1.0, 1.0, 1.0, 9.0],
        }
    )
    checked = check_candles(frame, freq_ms=H, now_ms=None)
    assert list(checked.accepted["bar_open_ms"]) == [0]
    assert [r.reason.split(":")[0] for r in checked.rejects] == [
        "schema_drift", "high_below_low", "vwap_outside_range"
    ]  # fmt: skip
    assert '"volume":NaN' in checked.rejects[0].raw_payload


def test_snapshot_rules() -> None:
    tickers = [
        {"symbol": "BTC/USD", "timestamp": 5, "last": 100.0, "bid": 99.0, "ask": 101.0},
        {"symbol": "ETH/USD", "timestamp": 5, "last": 100.0, "bid": 102.0, "ask": 101.0},
        {"symbol": "SOL/USD", "timestamp": 5, "last": -1.0},
        {"symbol": "ADA/USD", "timestamp": 5, "last": 1.0, "quoteVolume": -5.0},
        {"symbol": "XRP/USD", "timestamp": 10**12, "last": 1.0},
        {"symbol": None, "last": 1.0},
        {"symbol": "BTC/USD", "timestamp": 5, "last": 100.0},
    ]
    checked = check_snapshots(
        ticker_frame(tickers, venue="v", fetched_ms=7), now_ms=7, data_kind="ticker"
    )
    assert list(checked.accepted["instrument_id"]) == ["v:BTC/USD"]
    assert [r.reason.split(":")[0] for r in checked.rejects] == [
        "crossed_book", "non_positive_price", "negative_volume", "future_timestamp",
        "schema_drift", "duplicate_timestamp",
    ]  # fmt: skip


def test_dex_prices_arrive_as_decimal_text_and_counts_must_be_integers() -> None:
    pair = {"chainId": "c", "pairAddress": "p", "priceUsd": "1.25",
            "txns": {"h24": {"buys": 2, "sells": 3}}}  # fmt: skip
    odd = {**pair, "pairAddress": "q", "txns": {"h24": {"buys": 2.5, "sells": 3}}}
    checked = check_snapshots(
        dex_pairs_frame({"pairs": [pair, odd]}, fetched_ms=1), now_ms=1, data_kind="dex_pair"
    )
    assert checked.accepted["price"].tolist() == [1.25]
    assert checked.accepted["txn_count_24h"].tolist() == [5]
    assert (
        checked.rejects[0].reason == "schema_drift: txn_count_24h is not a whole number below 2^53"
    )
