"""Tear-sheet numbers: compounding, drawdown, quantile cuts, and the alphalens-reloaded oracle."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from alphalens.performance import factor_rank_autocorrelation, mean_return_by_quantile

from crypto_analyzer.pipeline.report.figure_style import decimate
from crypto_analyzer.pipeline.report.figures import build_cumulative_returns
from crypto_analyzer.pipeline.report.tearsheet import (
    compounded,
    drawdown,
    mean_by_quantile,
    quantile_labels,
    rank_autocorrelation,
)


def test_compounded_curve_and_its_label_with_known_returns() -> None:
    returns = np.array([0.10, -0.10, 0.20, -0.50])
    expected = np.array([0.10, -0.01, 0.188, -0.406])
    np.testing.assert_allclose(compounded(returns), expected, atol=1e-12)
    # a run of losses that a plain sum would take below -100 % stays above it when compounded
    losses = np.full(30, -0.4)
    assert losses.sum() < -10
    assert np.all(compounded(losses) > -1.0)
    np.testing.assert_allclose(drawdown(np.array([0.1, -0.5, 0.2])), [0.0, -0.5, -0.4])

    index = pd.Index(np.arange(4) * 3_600_000, name="bar_open_ms")
    figure = build_cumulative_returns(pd.DataFrame({"planted@1": returns}, index=index))
    (axis,) = figure.axes
    assert "compounded" in axis.get_ylabel() and "%" in axis.get_ylabel()
    assert "compounded" in axis.get_title()
    (line,) = [line for line in axis.get_lines() if line.get_label() == "planted, 1-bar horizon"]
    np.testing.assert_allclose(line.get_ydata(), expected * 100.0, atol=1e-9)


def test_quantile_labels_equal_pandas_qcut_per_row() -> None:
    rng = np.random.default_rng(7)
    signal = rng.standard_normal((40, 23))
    valid = rng.random(signal.shape) > 0.15
    labels = quantile_labels(signal, valid, 5)
    for row in range(signal.shape[0]):
        values = pd.Series(signal[row])[valid[row]]
        expected = pd.qcut(values, 5, labels=False).to_numpy()
        np.testing.assert_array_equal(labels[row][valid[row]], expected)
        assert np.all(labels[row][~valid[row]] == -1)


def test_decimate_keeps_extremes_and_bounds_points() -> None:
    rng = np.random.default_rng(3)
    y = rng.standard_normal(20_000)
    y[12_345] = 50.0
    x, kept = decimate(np.arange(y.size), y, max_points=1000)
    assert len(kept) <= 1002 and kept.max() == 50.0 and kept.min() == y.min()
    assert x[-1] == y.size - 1 and np.all(np.diff(x) > 0)


def _decimate_bucket_by_bucket(y: np.ndarray, max_points: int) -> np.ndarray:
    """The positions decimate keeps, written as the obvious per-bucket loop."""
    n = len(y)
    edges = np.linspace(0, n, max(1, max_points // 2) + 1).astype(int)
    keep: list[int] = []
    for start, stop in pairwise(edges):
        if stop <= start:
            continue
        chunk = y[start:stop]
        if np.isfinite(chunk).any():
            pair = {start + int(np.nanargmin(chunk)), start + int(np.nanargmax(chunk))}
            keep.extend(sorted(pair))
        else:
            keep.append(start)
    if keep[-1] != n - 1:
        keep.append(n - 1)
    return np.asarray(keep)


@pytest.mark.parametrize("seed", range(40))
def test_decimate_keeps_what_the_per_bucket_loop_keeps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 6000))
    y = rng.choice([-1.0, 0.0, -0.0, 1.0, 2.0], size=n) if seed % 3 == 0 else rng.normal(size=n)
    for fill in (np.nan, np.inf, -np.inf):
        y[rng.random(n) < rng.uniform(0.0, 0.3)] = fill
    y[rng.integers(0, n) : rng.integers(0, n)] = np.nan  # a run of missing values
    max_points = int(rng.integers(4, 400))
    expected = _decimate_bucket_by_bucket(y, max_points)
    x, kept = decimate(np.arange(n), y, max_points=max_points)
    if n <= max_points:
        expected = np.arange(n)
    np.testing.assert_array_equal(x, expected)
    np.testing.assert_array_equal(kept, y[expected])


def _factor_data(signal: pd.DataFrame, forward: pd.DataFrame, h: int) -> pd.DataFrame:
    dates = pd.DatetimeIndex(pd.to_datetime(signal.index, unit="ms", utc=True), freq="h")
    data = pd.concat(
        {
            f"{h}h": forward.set_axis(dates, axis=0).stack(),
            "factor": signal.set_axis(dates, axis=0).stack(),
        },
        axis=1,
        join="inner",
    ).dropna()
    data.index = data.index.set_names(["date", "asset"])
    data["factor_quantile"] = data.groupby(level="date")["factor"].transform(
        lambda x: pd.qcut(x, 5, labels=False) + 1
    )
    return data


@pytest.mark.parametrize("h", [1, 4])
def test_quantile_returns_and_rank_autocorrelation_equal_alphalens(h: int) -> None:
    rng = np.random.default_rng(11 + h)
    n_times, n_assets = 120, 30
    signal = pd.DataFrame(rng.standard_normal((n_times, n_assets)))
    signal.index = pd.Index(np.arange(n_times) * 3_600_000, name="bar_open_ms")
    signal = signal.mask(rng.random(signal.shape) < 0.1)
    forward = 0.01 * signal.fillna(0.0) + pd.DataFrame(
        rng.normal(0.0, 0.02, (n_times, n_assets)), index=signal.index
    )
    data = _factor_data(signal, forward, h)

    oracle, _ = mean_return_by_quantile(data, demeaned=True)
    valid = signal.notna().to_numpy() & forward.notna().to_numpy()
    labels = quantile_labels(signal.to_numpy(), valid, 5)
    ours = mean_by_quantile(forward.to_numpy(), labels, 5, demean=True)
    np.testing.assert_allclose(ours, oracle[f"{h}h"].to_numpy(), rtol=0, atol=1e-14)

    autocorr = factor_rank_autocorrelation(data, period=h)
    mine = rank_autocorrelation(signal, h)
    np.testing.assert_allclose(
        mine.to_numpy(), autocorr.reindex(data.index.levels[0]).to_numpy(), rtol=0, atol=1e-12
    )
    assert mine.notna().sum() == n_times - h
