"""The pure bar computation behind ``materialize bars``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crypto_analyzer.materialize import compute_bars

H, Q = 3_600_000, 900_000
EMPTY_CANDLES = pd.DataFrame(
    columns=["bar_open_ms", "freq", "open", "high", "low", "close", "volume", "vwap"]
)
EMPTY_NATIVE = pd.DataFrame(
    columns=["bar_open_ms", "open", "high", "low", "close", "volume", "vwap"]
)


def test_snapshot_buckets_open_on_the_bucket_start_and_ties_break_by_provider() -> None:
    snaps = pd.DataFrame(
        {
            "observed_ms": [H - 1, H, H, H + 10, 3 * H + 5],
            "provider": ["p", "b", "a", "p", "p"],
            "price": [9.0, 2.0, 1.0, 5.0, 4.0],
        }
    )
    out = compute_bars(snaps, EMPTY_CANDLES, EMPTY_NATIVE, "1h")
    assert list(out["bar_open_ms"]) == [0, H, 3 * H]
    assert out.loc[1, ["open", "high", "low", "close"]].tolist() == [1.0, 5.0, 1.0, 5.0]  # a < b
    assert out.loc[1, "log_return"] == np.log(5.0 / 9.0)
    assert np.isnan(out.loc[2, "log_return"]) and out.loc[2, "gap_before"] == 1
    assert (out["volume"] == 0).all() and out["vwap"].isna().all()


def test_candles_win_over_snapshots_and_the_coarsest_finer_length_is_used() -> None:
    candles = pd.DataFrame(
        {
            "bar_open_ms": [0, Q, 2 * Q, 3 * Q, 0, 30 * 60_000],
            "freq": ["15min"] * 4 + ["30min_like"] * 0 + ["5min", "5min"],
            "open": [1.0, 2.0, 3.0, 4.0, 7.0, 7.0],
            "high": [2.0, 3.0, 4.0, 5.0, 8.0, 8.0],
            "low": [0.5, 1.5, 2.5, 3.5, 6.0, 6.0],
            "close": [2.0, 3.0, 4.0, 4.5, 7.5, 7.5],
            "volume": [1.0, 1.0, 2.0, 0.0, 9.0, 9.0],
            "vwap": [1.5, 2.5, 3.5, np.nan, 7.0, 7.0],
        }
    )
    snaps = pd.DataFrame({"observed_ms": [10], "provider": ["p"], "price": [100.0]})
    out = compute_bars(snaps, candles, EMPTY_NATIVE, "1h")
    row = out.iloc[0]
    assert (row["source"], row["open"], row["high"], row["low"], row["close"]) == (
        "resampled",
        1.0,
        5.0,
        0.5,
        4.5,
    )
    assert row["volume"] == 4.0 and np.isnan(row["vwap"])  # one finer bar has no VWAP
    assert row["status"] == "ok"


def test_native_bars_anchor_returns_but_are_never_returned_for_writing() -> None:
    snaps = pd.DataFrame(
        {"observed_ms": [10, 2 * H + 1], "provider": ["p", "p"], "price": [2.0, 4.0]}
    )
    native = pd.DataFrame({"bar_open_ms": [H], "open": [3.0], "high": [3.0], "low": [3.0],
                           "close": [3.0], "volume": [1.0], "vwap": [np.nan]})  # fmt: skip
    out = compute_bars(snaps, EMPTY_CANDLES, native, "1h")
    assert list(out["native"]) == [False, True, False]
    assert out.loc[2, "log_return"] == np.log(4.0 / 3.0) and out["gap_before"].sum() == 0
