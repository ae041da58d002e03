"""Hypothesis properties: p-values in [0, 1], BH/BY monotone, column-order invariance, replay."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from stats_helpers import differential_panels, pvalue_arrays

from crypto_analyzer.stats import (
    adjust_pvalues,
    cusum_test,
    family_tests,
    newey_west,
    pbo_cscv,
    reality_check,
    spa,
    stepm,
    sup_f_test,
)

FEW = settings(max_examples=25, deadline=None)


@FEW
@given(d=differential_panels(), seed=st.integers(0, 2**32))
def test_family_pvalues_lie_in_unit_interval(d: np.ndarray, seed: int) -> None:
    res = family_tests(d, seed=seed, reps=60, block_length=3.0)
    values = [
        res.reality_check.p_value,
        res.spa.pvalue_lower,
        res.spa.pvalue_consistent,
        res.spa.pvalue_upper,
        *(res.stepm.adjusted_pvalues or ()),
    ]
    assert all(p is not None and 0.0 <= p <= 1.0 for p in values)
    assert res.spa.pvalue_lower <= res.spa.pvalue_consistent <= res.spa.pvalue_upper


@FEW
@given(p=pvalue_arrays, method=st.sampled_from(["bh", "by", "holm"]))
def test_adjusted_pvalues_in_unit_interval_and_monotone(p: np.ndarray, method: str) -> None:
    adjusted = np.array(adjust_pvalues(p, method=method).adjusted)
    assert ((adjusted >= 0.0) & (adjusted <= 1.0)).all()
    assert (adjusted >= p - 1e-15).all()
    order = np.argsort(p, kind="stable")
    assert (np.diff(adjusted[order]) >= 0.0).all()


@FEW
@given(d=differential_panels(), seed=st.integers(0, 2**32), data=st.data())
def test_rc_and_spa_do_not_depend_on_column_order(
    d: np.ndarray, seed: int, data: st.DataObject
) -> None:
    perm = data.draw(st.permutations(range(d.shape[1])))
    a_rc = reality_check(d, seed=seed, reps=80, block_length=2.0)
    b_rc = reality_check(d[:, perm], seed=seed, reps=80, block_length=2.0)
    assert a_rc.p_value == b_rc.p_value
    a = spa(d, seed=seed, reps=80, block_length=2.0)
    b = spa(d[:, perm], seed=seed, reps=80, block_length=2.0)
    assert (a.pvalue_lower, a.pvalue_consistent, a.pvalue_upper) == (
        b.pvalue_lower,
        b.pvalue_consistent,
        b.pvalue_upper,
    )
    a_rw = stepm(d, seed=seed, reps=80, block_length=2.0)
    b_rw = stepm(d[:, perm], seed=seed, reps=80, block_length=2.0)
    np.testing.assert_array_equal(np.array(a_rw.adjusted_pvalues)[perm], b_rw.adjusted_pvalues)


@FEW
@given(d=differential_panels(), seed=st.integers(0, 2**32))
def test_same_seed_same_result(d: np.ndarray, seed: int) -> None:
    first = family_tests(d, seed=seed, reps=50).to_dict()
    assert family_tests(d, seed=seed, reps=50).to_dict() == first
    x = d[:, 0]
    assert (
        sup_f_test(x, seed=seed, reps=20).to_dict() == sup_f_test(x, seed=seed, reps=20).to_dict()
    )


@FEW
@given(d=differential_panels())
def test_single_series_pvalues_in_unit_interval(d: np.ndarray) -> None:
    x = d[:, 0]
    p = newey_west(x).p_value
    assert p is None or 0.0 <= p <= 1.0
    assert 0.0 <= cusum_test(x).p_value <= 1.0
    if d.shape[1] >= 2 and d.shape[0] >= 32:
        assert 0.0 <= pbo_cscv(d, n_blocks=4).pbo <= 1.0
