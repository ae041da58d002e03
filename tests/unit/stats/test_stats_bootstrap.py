"""Bootstrap index generation, count-matrix means and the Politis-White block length."""

from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import optimal_block_length as arch_optimal_block_length
from stats_helpers import ar1

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.core.seeding import make_rng
from crypto_analyzer.stats import bootstrap_indices, optimal_block_length
from crypto_analyzer.stats._block_draws import (
    block_chunks,
    block_counts,
    prefix_block_sums,
    prefix_sums,
)
from crypto_analyzer.stats._family_core import long_run_variance
from crypto_analyzer.stats._spectral import autocovariances, spectrum_of
from crypto_analyzer.stats.bootstrap import bootstrap_deviations, bootstrap_means


def test_stationary_indices_shape_range_and_seed() -> None:
    res = bootstrap_indices(200, method="stationary", block_length=8.0, reps=300, seed=4)
    assert res.indices.shape == (300, 200) and res.indices.dtype == np.int64
    assert res.indices.min() >= 0 and res.indices.max() < 200
    assert res.seed == 4 and res.method == "stationary" and res.block_length == 8.0
    again = bootstrap_indices(200, method="stationary", block_length=8.0, reps=300, seed=4)
    np.testing.assert_array_equal(res.indices, again.indices)
    other = bootstrap_indices(200, method="stationary", block_length=8.0, reps=300, seed=5)
    assert not np.array_equal(res.indices, other.indices)
    assert not res.indices.flags.writeable
    canonical_dumps(res.to_dict())


def test_stationary_block_lengths_are_geometric_with_the_requested_mean() -> None:
    n, b = 500, 10.0
    idx = bootstrap_indices(n, method="stationary", block_length=b, reps=400, seed=1).indices
    continues = (np.diff(idx, axis=1) % n) == 1
    # A new block starts with probability 1/b; it continues the previous index by chance w.p. 1/n.
    p_new = 1.0 - continues.mean()
    expected = (1 / b) * (1 - 1 / n)
    assert p_new == pytest.approx(expected, rel=0.02)
    starts = idx[:, 0]
    assert abs(starts.mean() - (n - 1) / 2) < 4 * n / np.sqrt(12 * 400)


def test_circular_blocks_are_consecutive_and_wrap() -> None:
    res = bootstrap_indices(10, method="circular", block_length=3, reps=50, seed=2)
    for row in res.indices:
        for start in range(0, 10, 3):
            block = row[start : start + 3]
            np.testing.assert_array_equal(block, (block[0] + np.arange(block.size)) % 10)


def test_counts_match_bincount_per_row() -> None:
    res = bootstrap_indices(30, method="stationary", block_length=4.0, reps=20, seed=3)
    counts = res.counts()
    for row, idx in zip(counts, res.indices, strict=True):
        np.testing.assert_array_equal(row, np.bincount(idx, minlength=30))
    assert (counts.sum(axis=1) == 30).all()


@pytest.mark.parametrize("method", ["stationary", "circular"])
def test_count_matrix_means_equal_gathered_means(method: str) -> None:
    # The BLAS count-matrix path must equal the plain gather-and-average twin on the same draw.
    data = np.random.default_rng(0).standard_normal((57, 4))
    length = 5.0 if method == "stationary" else 5
    means = bootstrap_means(data, method, float(length), 300, make_rng(8))
    idx = bootstrap_indices(57, method=method, block_length=length, reps=300, seed=8).indices
    np.testing.assert_allclose(means, data[idx].mean(axis=1), rtol=0, atol=1e-13)


@pytest.mark.parametrize("n", [50, 200, 1000, 3000])
def test_block_length_matches_arch(n: int) -> None:
    rng = np.random.default_rng(n)
    x = np.column_stack([ar1(n, 0.5, rng)[:, 0], rng.standard_normal(n), ar1(n, 0.9, rng)[:, 0]])
    ours = optimal_block_length(x)
    expected = arch_optimal_block_length(x)
    np.testing.assert_allclose(ours.stationary, expected["stationary"], rtol=1e-10)
    np.testing.assert_allclose(ours.circular, expected["circular"], rtol=1e-10)
    canonical_dumps(ours.to_dict())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_obs": 0}, ValueError, "n_obs must be >= 1"),
        ({"method": "moving"}, ValueError, "method must be one of"),
        ({"block_length": 0.5}, ValueError, "block_length"),
        ({"block_length": 20.0}, ValueError, "block_length"),
        ({"method": "circular", "block_length": 2.5}, TypeError, "block_length must be an int"),
        ({"reps": 0}, ValueError, "reps"),
        ({"seed": None}, TypeError, "seed"),
    ],
)
def test_validation(kwargs: dict, error: type, match: str) -> None:
    args = {"n_obs": 10, "method": "stationary", "block_length": 2.0, "reps": 5, "seed": 1}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        bootstrap_indices(**args)


def test_block_length_validation() -> None:
    with pytest.raises(ValueError, match="at least 9"):
        optimal_block_length(np.arange(5.0))
    with pytest.raises(ValueError, match="NaN"):
        optimal_block_length(np.r_[np.arange(20.0), np.nan])


def _direct_autocovariances(x: np.ndarray) -> np.ndarray:
    """gamma_j = n^-1 sum_t e_t e_{t+j}, lag by lag (the definition, no FFT)."""
    n = x.shape[0]
    e = x - x.mean(axis=0)
    return np.array([(e[: n - j] * e[j:]).sum(axis=0) / n for j in range(n)])


def _direct_bootstrap_variance(x: np.ndarray, method: str, b: float) -> np.ndarray:
    """Variance of sqrt(n) * mean under the bootstrap, written out from its definition."""
    n = x.shape[0]
    gamma = _direct_autocovariances(x)
    out = gamma[0].copy()
    for i in range(1, n):
        if method == "stationary":
            q = 1.0 - 1.0 / b
            out += 2.0 * ((1 - i / n) * q**i + (i / n) * q ** (n - i)) * gamma[i]
        elif i < b:
            # Circular autocovariance at lag i: the linear one plus the wrapped tail.
            out += 2.0 * (1.0 - i / b) * (gamma[i] + gamma[n - i])
    return out


@pytest.mark.parametrize("method", ["stationary", "circular"])
@pytest.mark.parametrize(("n", "b"), [(40, 1.0), (257, 3.0), (600, 24.0), (999, 31.0), (64, 64.0)])
def test_fft_long_run_variance_equals_the_direct_sum(method: str, n: int, b: float) -> None:
    rng = np.random.default_rng(n)
    x = ar1(n, 0.4, rng, cols=3) + np.array([0.0, 5.0, -300.0])
    x[:, 2] = -0.7 * np.roll(x[:, 2], 1) + rng.standard_normal(n)  # negative autocorrelation
    expected = _direct_bootstrap_variance(x, method, b)
    got = long_run_variance(x, method, b)
    gamma0 = x.var(axis=0)
    np.testing.assert_array_less(np.abs(got - expected), 1e-14 * gamma0)
    acov = autocovariances(spectrum_of(x), 20)
    error = np.abs(acov - _direct_autocovariances(x)[:21])
    assert (error < 1e-14 * gamma0).all(), error.max(axis=0) / gamma0


@pytest.mark.parametrize(
    ("method", "length"), [("stationary", 3.0), ("stationary", 30.0), ("circular", 25)]
)
def test_count_and_prefix_paths_agree_with_the_indices(method: str, length: float) -> None:
    # Both mean paths (count matrix GEMM; prefix-sum sparse product) and the index matrix are
    # views of the same (start, length) draws.
    n = 300
    data = np.random.default_rng(1).standard_normal((n, 3)) + 100.0
    indices = bootstrap_indices(n, method=method, block_length=length, reps=200, seed=4)
    gathered = data[indices.indices].mean(axis=1) - data.mean(axis=0)
    deviations = bootstrap_deviations(data, method, float(length), 200, make_rng(4))
    np.testing.assert_allclose(deviations, gathered, rtol=0, atol=1e-12)
    counts = []
    by_prefix = []
    prefix = prefix_sums(data)
    for starts, lengths in block_chunks(n, method, float(length), 200, make_rng(4)):
        counts.append(block_counts(starts, lengths, n))
        by_prefix.append(prefix_block_sums(starts, lengths, prefix, n) / n)
    np.testing.assert_array_equal(np.concatenate(counts), indices.counts())
    np.testing.assert_allclose(np.concatenate(by_prefix), gathered, rtol=0, atol=1e-12)


def test_stationary_rows_cover_exactly_n_with_geometric_blocks() -> None:
    n, b = 2000, 20.0
    firsts = []
    for starts, lengths in block_chunks(n, "stationary", b, 1200, make_rng(2)):
        assert (lengths.sum(axis=1) == n).all() and (lengths >= 0).all()
        assert starts.min() >= 0 and starts.max() < n
        firsts.append(lengths[:, 0])  # never cut at n here: P(length >= n) ~ e^-100
    first = np.concatenate(firsts)
    # Geometric with mean b: mean b, standard deviation sqrt(b^2 - b), P(length = 1) = 1/b.
    assert abs(first.mean() - b) < 4 * np.sqrt(b * b - b) / np.sqrt(first.size)
    assert (first == 1).mean() == pytest.approx(1 / b, abs=4 * np.sqrt(0.05 * 0.95 / 1200))


def test_short_width_batches_top_up_deterministically() -> None:
    # b = n: one batch of width ~9 blocks covers n only with high probability; whatever the
    # top-up does, every row still sums to n and the stream is reproducible.
    first = [
        tuple(map(np.copy, pair)) for pair in block_chunks(20, "stationary", 20.0, 900, make_rng(9))
    ]
    again = list(block_chunks(20, "stationary", 20.0, 900, make_rng(9)))
    for (s1, l1), (s2, l2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_array_equal(l1, l2)
        assert (l1.sum(axis=1) == 20).all()
