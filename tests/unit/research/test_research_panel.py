"""Panel construction from the loader's long bars frame, asset filters and the causal universe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from research_helpers import HOUR_MS, START_MS, bars_frame

from crypto_analyzer.research import (
    Panel,
    eligibility_mask,
    filter_assets,
    forward_returns,
    panel_from_bars,
)


def test_pivot_aligns_and_derives_returns_and_dollar_volume() -> None:
    close = np.array([[100.0, 10.0], [110.0, np.nan], [121.0, 12.0], [121.0, 12.0]])
    volume = np.array([[1.0, 5.0], [2.0, np.nan], [3.0, 7.0], [4.0, 8.0]])
    bars = bars_frame(close, volume, ids=[7, 3]).sample(frac=1.0, random_state=0)
    panel = panel_from_bars(bars)
    assert list(panel.assets) == [3, 7]
    assert panel.bar_ms == HOUR_MS
    assert panel.times[0] == START_MS and panel.shape == (4, 2)
    np.testing.assert_allclose(panel.close[7].to_numpy(), [100.0, 110.0, 121.0, 121.0])
    expected = np.log([np.nan, 1.1, 1.1, 1.0])
    np.testing.assert_allclose(panel.log_returns[7].to_numpy(), expected)
    # A missing bar breaks the return chain on both sides: no return is bridged across the gap.
    assert panel.log_returns[3].isna().to_numpy().tolist() == [True, True, True, False]
    np.testing.assert_allclose(panel.dollar_volume[7].to_numpy(), [100.0, 220.0, 363.0, 484.0])


def test_all_missing_bar_time_becomes_a_nan_row() -> None:
    close = np.array([[1.0, 2.0], [np.nan, np.nan], [1.5, 2.5]])
    panel = panel_from_bars(bars_frame(close), bar_ms=HOUR_MS)
    assert panel.shape == (3, 2)
    assert panel.close.iloc[1].isna().all()
    fwd = forward_returns(panel, horizons=[2])[2]
    np.testing.assert_allclose(fwd.iloc[0].to_numpy(), np.log([1.5, 1.25]))


def test_rejects_bad_input() -> None:
    good = bars_frame(np.array([[1.0], [2.0]]))
    with pytest.raises(TypeError, match="bars must be a pandas DataFrame"):
        panel_from_bars(good.to_numpy())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="missing columns"):
        panel_from_bars(good.drop(columns="volume"))
    with pytest.raises(ValueError, match="duplicate"):
        panel_from_bars(pd.concat([good, good.iloc[:1]]))
    bad = good.copy()
    bad.loc[0, "close"] = -1.0
    with pytest.raises(ValueError, match="close"):
        panel_from_bars(bad)
    bad = good.copy()
    bad.loc[0, "volume"] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        panel_from_bars(bad)
    off = good.copy()
    off.loc[1, "bar_open_ms"] += 5
    with pytest.raises(ValueError, match="not on the"):
        panel_from_bars(off, bar_ms=HOUR_MS)
    with pytest.raises(ValueError, match="bar_ms must be an int >= 1"):
        panel_from_bars(good, bar_ms=0)


def test_panel_refuses_misaligned_frames() -> None:
    close = pd.DataFrame([[1.0]], index=[0], columns=[1])
    other = pd.DataFrame([[1.0]], index=[1], columns=[1])
    with pytest.raises(ValueError, match="not aligned"):
        Panel(close, other, close, close, 1)


def test_filter_assets_by_history_and_liquidity() -> None:
    close = np.ones((10, 3))
    close[:6, 2] = np.nan
    volume = np.full((10, 3), 10.0)
    volume[:, 1] = 0.5
    panel = panel_from_bars(bars_frame(close, volume))
    assert list(filter_assets(panel, min_bars=5).assets) == [1, 2]
    assert list(filter_assets(panel, min_median_dollar_volume=1.0).assets) == [1, 3]
    early = filter_assets(panel, min_bars=1, until_ms=START_MS + 3 * HOUR_MS)
    assert list(early.assets) == [1, 2]


def test_eligibility_mask_is_causal(market_panel: Panel) -> None:
    full = eligibility_mask(market_panel, window=48, min_bars=40, min_median_dollar_volume=1e5)
    cut = 300
    head = eligibility_mask(
        market_panel.head_rows(cut), window=48, min_bars=40, min_median_dollar_volume=1e5
    )
    pd.testing.assert_frame_equal(full.iloc[:cut], head)
    assert not full.iloc[:39].to_numpy().any()
    assert full.iloc[100:].to_numpy().any()


def test_row_order_does_not_change_the_panel_and_duplicates_are_found_in_any_order() -> None:
    """The loader's (instrument, time) order takes a fast path; any other order must give the
    same panel, and a repeated bar must be refused however the rows are ordered."""
    rng = np.random.default_rng(5)
    close = rng.uniform(1.0, 2.0, (30, 3))
    close[4:7, 1] = np.nan
    bars = bars_frame(close, rng.uniform(0.0, 9.0, (30, 3)), ids=["c", "a", "b"])
    ordered = bars.sort_values(["instrument_id", "bar_open_ms"]).reset_index(drop=True)
    shuffled = bars.sample(frac=1.0, random_state=2).reset_index(drop=True)
    first, second = panel_from_bars(ordered), panel_from_bars(shuffled)
    for name in ("close", "volume", "log_returns", "dollar_volume"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name), check_exact=True)
    assert list(first.assets) == ["a", "b", "c"]
    repeated = pd.concat([ordered.iloc[:5], ordered.iloc[4:]]).reset_index(drop=True)
    for frame in (repeated, repeated.sample(frac=1.0, random_state=3)):
        with pytest.raises(ValueError, match="duplicate"):
            panel_from_bars(frame)
