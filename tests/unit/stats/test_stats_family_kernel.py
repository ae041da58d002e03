"""The fast family kernel gives the same bits as the plain formulas it replaces.

Each shortcut (fused null pass, in-place CSR product, per-block long-run variances, no-copy
validation) is checked with ``np.array_equal`` / ``tobytes`` against the straightforward
computation, not with a tolerance: results recorded before the change must not move.
"""

from __future__ import annotations

import numpy as np
import pytest

from crypto_analyzer.core.seeding import make_rng
from crypto_analyzer.stats import _family_core as core
from crypto_analyzer.stats import _validation as v
from crypto_analyzer.stats import family_tests, spa, stepm
from crypto_analyzer.stats._block_draws import block_chunks, prefix_block_sums, prefix_sums
from crypto_analyzer.stats._spectral import (
    bootstrap_long_run_variance,
    bootstrap_long_run_variance_of,
    spectrum_of,
)
from crypto_analyzer.stats.spa import null_keys
from crypto_analyzer.stats.stepm import step_down_query


def _data(t: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((t, n)) * rng.uniform(0.5, 2.0, n)
    x[:, 0] += 0.15
    return x


def _settings(d: np.ndarray, studentize: bool, block: float | None = 30.0) -> core.FamilySettings:
    return core.family_iv(
        d=d,
        reps=203,  # not a multiple of the 64-draw pieces
        block_length=block,
        bootstrap="stationary",
        seed=5,
        hypothesis_ids=None,
        min_obs=30,
        studentize=studentize,
    )


@pytest.mark.parametrize("studentize", [True, False])
def test_fused_null_pass_equals_the_plain_null_matrices(studentize: bool) -> None:
    settings = _settings(_data(400, 37, 1), studentize)
    draw = core.draw_null(settings)
    white = ("upper", False)
    for recentring in core.RECENTRINGS:
        query = step_down_query(settings, draw, recentring)
        keys = [white, *null_keys(settings)]
        maxima, counts = core.null_summaries(draw, keys, query, recorded=[white])
        for key in keys:
            scale = draw.scale if key[1] else np.ones_like(draw.scale)
            plain = (draw.centred + core.recentring_shift(draw, key[0])) / scale
            if key == white:  # recorded values: the same bits, zero signs included
                assert maxima[key].tobytes() == plain.max(axis=1).tobytes()
            else:
                assert np.array_equal(maxima[key], plain.max(axis=1))
        null = core.null_statistics(draw, recentring)[:, query.order]
        suffix = np.maximum.accumulate(null[:, ::-1], axis=1)[:, ::-1]
        expected = np.mean(suffix > query.thresholds, axis=0)
        assert counts is not None
        assert (counts / settings.reps).tobytes() == expected.tobytes()


def test_recorded_scaled_upper_keeps_the_added_zero() -> None:
    settings = _settings(_data(300, 9, 2), True)
    draw = core.draw_null(settings)
    key = ("upper", True)
    maxima, _ = core.null_summaries(draw, [key], recorded=[key])
    plain = (draw.centred + np.zeros_like(draw.mean)) / draw.scale
    assert maxima[key].tobytes() == plain.max(axis=1).tobytes()


def test_in_place_and_fallback_sparse_products_agree_bit_for_bit() -> None:
    n = 500
    data = _data(n, 11, 3)
    prefix = prefix_sums(data)
    for starts, lengths in block_chunks(n, "stationary", 40.0, 130, make_rng(4)):
        direct = prefix_block_sums(starts, lengths, prefix, n)
        wide = np.zeros((starts.shape[0], 2 * data.shape[1]))
        strided = wide[:, ::2]  # not C-contiguous: takes scipy's ``csr @ dense`` path
        prefix_block_sums(starts, lengths, prefix, n, strided)
        assert direct.tobytes() == np.ascontiguousarray(strided).tobytes()
        in_place = np.full_like(direct, np.nan)
        prefix_block_sums(starts, lengths, prefix, n, in_place)
        assert direct.tobytes() == in_place.tobytes()


def test_prefix_sums_are_sequential_row_sums() -> None:
    data = _data(300, 7, 6)
    centred = data - data.mean(axis=0)
    expected = np.vstack([np.zeros((1, 7)), np.add.accumulate(centred, axis=0)])
    assert prefix_sums(data).tobytes() == expected.tobytes()


@pytest.mark.parametrize("columns", [1, 16, 37])
@pytest.mark.parametrize("method", ["stationary", "circular"])
def test_blockwise_long_run_variances_equal_the_spectrum_route(columns: int, method: str) -> None:
    data = _data(777, columns, 7)
    length = 12.0 if method == "circular" else 17.5
    via_spectrum = bootstrap_long_run_variance(spectrum_of(data), method, length).tobytes()
    assert bootstrap_long_run_variance_of(data, method, length).tobytes() == via_spectrum
    in_caller = bootstrap_long_run_variance_of(data, method, length, parallel=False)
    assert in_caller.tobytes() == via_spectrum


def test_no_copy_validation_reads_the_callers_array_and_never_writes_it() -> None:
    d = _data(300, 6, 8)
    same, finite = v.checked_float_array(d, "d", ndim=2, copy=False)
    assert same is d and finite
    fresh = v.float_array(d, "d", ndim=2)
    assert fresh is not d and np.array_equal(fresh, d)
    as_int = v.float_array((d * 100).astype(np.int64), "d", ndim=2, copy=False)
    assert as_int.dtype == np.float64 and as_int.flags.c_contiguous
    d[5, 2] = np.nan
    _, finite = v.checked_float_array(d, "d", ndim=2, allow_nan=True, copy=False)
    assert not finite
    before = d.copy()
    result = family_tests(d, seed=1, reps=120, block_length=25.0)
    assert result.spa.n_obs == 299
    np.testing.assert_array_equal(d, before)  # NaN-aware: nothing written into the input
    d[7, 1] = np.inf
    with pytest.raises(ValueError, match="inf"):
        family_tests(d, seed=1, reps=120)


@pytest.mark.parametrize("block", [None, 30.0, 8.0])
def test_family_equals_standalone_procedures(block: float | None) -> None:
    d = _data(600, 13, 9)
    together = family_tests(d, seed=3, reps=150, block_length=block, recentring="lower")
    kwargs = {"seed": 3, "reps": 150, "block_length": block}
    assert together.spa == spa(d, **kwargs)
    assert together.stepm == stepm(d, recentring="lower", **kwargs)
