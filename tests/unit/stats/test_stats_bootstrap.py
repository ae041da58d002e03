"""Bootstrap index generation, count-matrix means and the Politis-White block length."""

from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import optimal_block_length as arch_optimal_block_length
from stats_helpers import ar1

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.core.seeding import make_rng
from crypto_analyzer.stats import bootstrap_indices, optimal_block_length
from crypto_analyzer.stats.bootstrap import bootstrap_means


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
