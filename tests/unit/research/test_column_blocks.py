"""Signals by column block, z-scores and forward returns without copies: the former bits and order.

The references below are the former whole-frame implementations. Blocks are made small (a few
columns) so every signal crosses many block boundaries; a missing-data pattern, zero volumes and
factor coins make the NaN placement non-trivial.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from research_helpers import bars_frame

import crypto_analyzer.core.row_blocks as row_blocks_module
import crypto_analyzer.research.signals as signals_module
from crypto_analyzer.core.row_blocks import MIN_BLOCK_CELLS, is_column_major, row_blocks, rows_like
from crypto_analyzer.research import (
    Panel,
    compute_signal,
    fit_factor_model,
    forward_returns,
    panel_from_bars,
)
from crypto_analyzer.research.cross_section import _zscore_rows, cs_zscore
from crypto_analyzer.research.signals import _min_periods


def _former_safe_log(frame: pd.DataFrame) -> pd.DataFrame:
    arr = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.full(arr.shape, np.nan)
    np.log(arr, out=out, where=arr > 0)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def _former_trailing_sum(frame: pd.DataFrame, window: int) -> pd.DataFrame:
    return frame.rolling(window, min_periods=_min_periods(window)).mean() * window


def _former(name: str, panel: Panel, fit, **p):  # type: ignore[no-untyped-def]
    r = panel.log_returns
    if name == "clean_momentum":
        return _former_trailing_sum(fit.residuals, p["lookback"]).shift(1)
    if name == "value_vs_beta":
        return -_former_trailing_sum(fit.residuals, p["lookback"])
    if name == "momentum_24h":
        return _former_trailing_sum(r, 24)
    if name == "short_reversal":
        return -_former_trailing_sum(r, 3)
    if name == "low_vol":
        return -r.rolling(p["lookback"], min_periods=_min_periods(p["lookback"])).std()
    if name == "volume_surprise":
        dv = panel.dollar_volume
        recent = dv.rolling(p["short"], min_periods=_min_periods(p["short"])).mean()
        norm = dv.rolling(p["lookback"], min_periods=_min_periods(p["lookback"])).mean()
        return _former_safe_log(recent) - _former_safe_log(norm)
    if name == "volume_shock":
        log_volume = _former_safe_log(panel.volume)
        return log_volume - log_volume.shift(1).rolling(p["window"], min_periods=p["window"]).mean()
    assert name == "liquidity_shock_reversion"
    dv = panel.dollar_volume.to_numpy(dtype=np.float64, na_value=np.nan)
    absret = np.abs(r.to_numpy(dtype=np.float64, na_value=np.nan))
    illiq = np.full(dv.shape, np.nan)
    np.divide(absret, dv, out=illiq, where=dv > 0)
    frame = pd.DataFrame(illiq, index=panel.times, columns=panel.assets)
    recent = frame.rolling(p["short"], min_periods=_min_periods(p["short"])).mean()
    norm = frame.rolling(p["lookback"], min_periods=_min_periods(p["lookback"])).mean()
    shock = (_former_safe_log(recent) - _former_safe_log(norm)).clip(lower=0.0)
    return -_former_trailing_sum(r, p["short"]) * shock


def _former_cs_zscore(frame: pd.DataFrame, q: float) -> pd.DataFrame:
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.full(values.shape, np.nan)
    for block in row_blocks(*values.shape):
        out[block] = _zscore_rows(rows_like(values, block), q, 3)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def _former_forward(panel: Panel, horizons: list[int], kind: str) -> dict[int, pd.DataFrame]:
    logp = np.log(panel.close.to_numpy(dtype=np.float64, na_value=np.nan))
    out = {}
    for h in horizons:
        fwd = np.full(logp.shape, np.nan)
        if h < logp.shape[0]:
            fwd[:-h] = logp[h:] - logp[:-h]
        if kind == "simple":
            fwd = np.expm1(fwd)
        out[h] = pd.DataFrame(fwd, index=panel.close.index, columns=panel.close.columns)
    return out


def _same(new: pd.DataFrame, old: pd.DataFrame) -> None:
    assert new.index.equals(old.index) and new.columns.equals(old.columns)
    a, b = new.to_numpy(), old.to_numpy()
    assert np.array_equal(a, b, equal_nan=True)
    assert np.array_equal(np.signbit(a), np.signbit(b))
    assert is_column_major(a) == is_column_major(b)


@pytest.fixture(scope="module")
def market() -> Panel:
    rng = np.random.default_rng(17)
    n_times, n_assets = 1500, 45
    rets = rng.normal(0.0, 0.01, (n_times, n_assets)) + rng.normal(0.0, 0.01, (n_times, 1))
    close = 50.0 * np.exp(np.cumsum(rets, axis=0))
    close[:, 2:][rng.random((n_times, n_assets - 2)) < 0.005] = np.nan  # missing alt bars
    close[:300, 7] = np.nan  # a late listing
    volume = np.exp(rng.normal(8.0, 1.0, close.shape))
    volume[rng.random(close.shape) < 0.03] = 0.0  # bars without trading
    return panel_from_bars(bars_frame(close, volume))


_PARAMS = {
    "clean_momentum": {"lookback": 24},
    "value_vs_beta": {"lookback": 96},
    "momentum_24h": {},
    "short_reversal": {},
    "low_vol": {"lookback": 48},
    "volume_surprise": {"short": 4, "lookback": 48},
    "volume_shock": {"window": 12},
    "liquidity_shock_reversion": {"short": 4, "lookback": 48},
}


@pytest.mark.parametrize("name", sorted(_PARAMS))
def test_signals_by_column_block_equal_the_whole_frame(name, market, monkeypatch) -> None:
    fit = fit_factor_model(market.log_returns, factor_ids=[1, 2], window=96)
    monkeypatch.setattr(row_blocks_module, "ROW_BLOCK_CELLS", 4 * market.shape[0])  # 4 columns
    func = getattr(signals_module, name)
    kwargs = {"factor_fit": fit} if name in ("clean_momentum", "value_vs_beta") else {}
    raw = func(market, **kwargs, **_PARAMS[name])
    old = _former(name, market, fit, **_PARAMS[name])
    _same(raw, old)
    assert raw.notna().to_numpy().mean() > 0.2  # often defined: the comparison means something
    # and through the registry's z-score (the report's path)
    z = compute_signal(name, market, factor_fit=fit if kwargs else None, **_PARAMS[name])
    _same(z, _former_cs_zscore(old.reindex(columns=market.assets), 0.01))


def test_cs_zscore_wraps_its_column_major_result(monkeypatch) -> None:
    monkeypatch.setattr(row_blocks_module, "ROW_BLOCK_CELLS", MIN_BLOCK_CELLS)
    rng = np.random.default_rng(3)
    for order in "CF":
        raw = np.asarray(rng.standard_normal((3001, 200)), order=order)
        raw[rng.random(raw.shape) < 0.2] = np.nan
        frame = pd.DataFrame(raw, copy=False)
        _same(cs_zscore(frame, winsor_quantile=0.05), _former_cs_zscore(frame, 0.05))


@pytest.mark.parametrize("kind", ["log", "simple"])
def test_forward_returns_equal_the_former_copies(kind, market, monkeypatch) -> None:
    monkeypatch.setattr(row_blocks_module, "ROW_BLOCK_CELLS", 4 * market.shape[0])
    horizons = [1, 4, 24, market.shape[0] - 1, market.shape[0] + 5]
    new = forward_returns(market, horizons=horizons, kind=kind)
    old = _former_forward(market, horizons, kind)
    assert list(new) == list(old)
    for h in horizons:
        _same(new[h], old[h])
    assert new[4].notna().to_numpy().mean() > 0.8
    assert new[market.shape[0] + 5].isna().all().all()


@pytest.mark.parametrize("kind", ["log", "simple"])
def test_forward_returns_of_a_time_major_panel_by_row_blocks_equal_the_whole_log(
    kind, market, monkeypatch
) -> None:
    assert market.close.to_numpy().flags.c_contiguous  # the layout panel_from_bars builds
    # blocks of 7 rows: every horizon but 1 and 4 reaches past the block it starts in
    monkeypatch.setattr(row_blocks_module, "MIN_BLOCK_CELLS", 2)
    monkeypatch.setattr(row_blocks_module, "ROW_BLOCK_CELLS", 7 * market.shape[1])
    horizons = [1, 4, 24, 300, market.shape[0] - 1, market.shape[0] + 5]
    new = forward_returns(market, horizons=horizons, kind=kind)
    old = _former_forward(market, horizons, kind)
    for h in horizons:
        _same(new[h], old[h])
    assert new[300].notna().to_numpy().mean() > 0.5
