"""The block-wise factor fit has the bits of the whole-grid one it replaced.

``_whole_grid_fit`` is the previous ``fit_factor_model`` body: ``rolling_ols`` on a copy of every
asset's returns, each unlagged grid lagged into an asset-major copy, then ``residualize`` on the
lagged frames. The block-wise fit must equal it bit for bit (NaN payloads included), in labels
and in memory layout, for every block layout of the input frame.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from crypto_analyzer.research import FactorFit, fit_factor_model, residualize, rolling_ols
from crypto_analyzer.research.factors import rolling_factor_config
from crypto_analyzer.research.rolling_ols import asset_blocks, rolling_ols_blocks


def _lag_frame(values: np.ndarray, lag: int, index: pd.Index, cols: pd.Index) -> pd.DataFrame:
    out = np.full(values.shape, np.nan, order="F")
    if lag < values.shape[0]:
        out[lag:] = values[: values.shape[0] - lag]
    return pd.DataFrame(out, index=index, columns=cols, copy=False)


def _whole_grid_fit(
    returns: pd.DataFrame, ids: list[str], window: int, lag: int, min_obs: int | None
) -> FactorFit:
    assets = returns.columns.difference(pd.Index(ids), sort=False)
    y = returns[assets].to_numpy(dtype=np.float64, na_value=np.nan)
    x = returns[ids].to_numpy(dtype=np.float64, na_value=np.nan)
    est = rolling_ols(y, x, window=window, min_obs=min_obs)
    index = returns.index
    betas = {f: _lag_frame(est.beta[a], lag, index, assets) for a, f in enumerate(ids)}
    alpha = _lag_frame(est.alpha, lag, index, assets)
    r2 = _lag_frame(est.r2, lag, index, assets)
    n_obs = _lag_frame(est.n_obs.astype(np.float64), lag, index, assets)
    config = rolling_factor_config(factor_ids=ids, window=window, lag=lag, min_obs=est.min_obs)
    residuals = residualize(returns[assets], returns[ids], betas=betas, alpha=alpha)
    return FactorFit(betas, alpha, r2, residuals, n_obs, config)


def _returns(seed: int, n_times: int, n_assets: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = rng.normal(0.0, 0.02, size=(n_times, 2))
    y = 0.0002 + f @ rng.normal(1.0, 0.4, size=(2, n_assets))
    y += rng.normal(0.0, 0.01, size=y.shape)
    y[rng.random(y.shape) < 0.05] = np.nan
    y[n_times // 3 : n_times // 3 + 30, 1] = np.nan  # a gap longer than any window
    y[rng.random(y.shape) < 0.01] = -np.nan  # another NaN bit pattern, kept as it is
    f[rng.random(n_times) < 0.02, 1] = np.nan
    return np.column_stack([f[:, :1], y[:, : n_assets // 2], f[:, 1:], y[:, n_assets // 2 :]])


def _c_block(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(np.ascontiguousarray(values), copy=False)


def _f_block(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(np.asfortranarray(values), copy=False)


def _two_blocks(values: np.ndarray) -> pd.DataFrame:
    half = values.shape[1] // 2
    left = pd.DataFrame(values[:, :half].copy())
    right = pd.DataFrame(values[:, half:].copy(), columns=range(half, values.shape[1]))
    return pd.concat([left, right], axis=1)


def _labelled(make: Callable[[np.ndarray], pd.DataFrame], values: np.ndarray) -> pd.DataFrame:
    frame = make(values)
    frame.columns = pd.Index([f"i{j:03d}" for j in range(values.shape[1])], name="instrument_id")
    frame.index = pd.Index(np.arange(values.shape[0], dtype=np.int64) * 3_600_000, name="ts")
    return frame


def _assert_same_bits(new: pd.DataFrame, old: pd.DataFrame) -> None:
    pd.testing.assert_index_equal(new.index, old.index, exact=True)
    pd.testing.assert_index_equal(new.columns, old.columns, exact=True)
    a, b = new.to_numpy(), old.to_numpy()
    assert a.flags.f_contiguous and b.flags.f_contiguous
    assert np.array_equal(a.view(np.uint64), b.view(np.uint64))


def _assert_same_fit(new: FactorFit, old: FactorFit, *, counts: bool) -> None:
    assert list(new.betas) == list(old.betas)
    for f in old.betas:
        _assert_same_bits(new.betas[f], old.betas[f])
    _assert_same_bits(new.alpha, old.alpha)
    assert new.r2 is not None and old.r2 is not None
    _assert_same_bits(new.r2, old.r2)
    _assert_same_bits(new.residuals, old.residuals)
    if counts:
        assert new.n_obs is not None and old.n_obs is not None
        _assert_same_bits(new.n_obs, old.n_obs)
    else:
        assert new.n_obs is None
    assert new.config == old.config


LAYOUTS = {"c_block": _c_block, "f_block": _f_block, "two_blocks": _two_blocks}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize(
    ("n_times", "n_assets", "window", "min_obs", "lag"),
    [
        (400, 9, 48, None, 1),  # one block
        (400, 9, 48, 20, 0),
        (30_000, 8, 72, 30, 5),  # blocks of 3 assets: 3, 3, 2
        (600, 420, 24, 10, 1),  # blocks of 166 assets, the last one short
        (60, 5, 8, None, 70),  # lag beyond the sample: every estimate NaN
    ],
)
def test_block_fit_has_the_bits_of_the_whole_grid_fit(
    layout: str, n_times: int, n_assets: int, window: int, min_obs: int | None, lag: int
) -> None:
    returns = _labelled(LAYOUTS[layout], _returns(n_times + n_assets, n_times, n_assets + 2))
    ids = ["i000", f"i{n_assets // 2 + 1:03d}"]
    assert list(returns.columns[[0, n_assets // 2 + 1]]) == ids
    old = _whole_grid_fit(returns, ids, window, lag, min_obs)
    for counts in (True, False):
        new = fit_factor_model(
            returns, factor_ids=ids, window=window, lag=lag, min_obs=min_obs, with_counts=counts
        )
        _assert_same_fit(new, old, counts=counts)


def test_factors_kept_among_the_assets_have_the_old_bits() -> None:
    returns = _labelled(_f_block, _returns(3, 300, 7))
    ids = ["i000", "i004"]
    new = fit_factor_model(returns, factor_ids=ids, window=30, lag=1, exclude_factors=False)
    y = returns.to_numpy(dtype=np.float64, na_value=np.nan)
    est = rolling_ols(y, returns[ids].to_numpy(), window=30)
    assert list(new.alpha.columns) == list(returns.columns)
    expected = _lag_frame(est.alpha, 1, returns.index, returns.columns)
    _assert_same_bits(new.alpha, expected)
    factor_residual = new.residuals["i000"].to_numpy()
    assert np.nanmax(np.abs(factor_residual)) < 1e-12  # a factor on itself leaves nothing


def test_rolling_ols_blocks_are_the_columns_of_rolling_ols() -> None:
    values = _returns(8, 50_001, 5)  # two-row-per-asset floor: blocks of one asset
    x, y = values[:, [0, 3]], np.delete(values, [0, 3], axis=1)
    whole = rolling_ols(y, x, window=40, min_obs=12)
    blocks = asset_blocks(*y.shape)
    assert [b.stop - b.start for b in blocks] == [1, 1, 1, 1, 1]
    for cols, est in zip(
        blocks, rolling_ols_blocks((y[:, c] for c in blocks), x, window=40, min_obs=12), strict=True
    ):
        for got, want in ((est.beta, whole.beta[:, :, cols]), (est.alpha, whole.alpha[:, cols])):
            assert np.array_equal(got.view(np.uint64), np.ascontiguousarray(want).view(np.uint64))
        assert np.array_equal(est.n_obs, whole.n_obs[:, cols])


def test_rolling_ols_blocks_refuse_a_block_of_another_length() -> None:
    x = np.zeros((30, 1))
    with pytest.raises(ValueError, match="y blocks must be 2-D with 30 rows, got shape"):
        list(rolling_ols_blocks([np.zeros((29, 2))], x, window=10))
    with pytest.raises(ValueError, match="min_obs must be <= window"):
        rolling_ols_blocks([], x, window=10, min_obs=11)  # checked before any block is read


def test_select_assets_serves_equal_labels_without_copies() -> None:
    returns = _labelled(_f_block, _returns(5, 200, 6))
    fit = fit_factor_model(returns, factor_ids=["i000", "i003"], window=20)
    same = fit.select_assets(list(fit.residuals.columns))
    assert same.alpha is fit.alpha and same.residuals is fit.residuals
    assert all(same.betas[f] is fit.betas[f] for f in fit.betas)
    assert same.n_obs is fit.n_obs and same.r2 is fit.r2
    fewer = fit.select_assets(["i005", "i001"])
    assert list(fewer.alpha.columns) == ["i005", "i001"]
    pd.testing.assert_frame_equal(fewer.residuals, fit.residuals.loc[:, ["i005", "i001"]])
    with pytest.raises(ValueError, match="does not cover assets"):
        fit.select_assets(["i000"])
