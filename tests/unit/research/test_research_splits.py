"""Split plans: hand-worked purge/embargo rows, invariants, serialisation and digest."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto_analyzer.core.canonical_json import canonical_dumps, canonical_loads
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.research import (
    SplitPlan,
    cpcv_plan,
    ranges_to_rows,
    rows_to_ranges,
    walk_forward_plan,
)


def _rows(ranges: tuple[tuple[int, int], ...]) -> list[int]:
    return ranges_to_rows(ranges).tolist()


def test_hand_worked_cpcv_purge_and_embargo() -> None:
    # 20 rows, 4 groups of 5: [0-4] [5-9] [10-14] [15-19]; horizon 2 -> purge 2; embargo 1.
    plan = cpcv_plan(20, n_groups=4, n_test_groups=1, horizon=2, embargo=1)
    assert plan.purge == 2 and len(plan.folds) == 4
    by_group = {f.test_groups: f for f in plan.folds}
    f1 = by_group[(1,)]
    assert _rows(f1.test) == [5, 6, 7, 8, 9]
    assert _rows(f1.purged) == [3, 4]  # labels [3, 5] and [4, 6] reach the test block
    assert _rows(f1.embargoed) == [10]
    assert _rows(f1.train) == [0, 1, 2, *range(11, 20)]
    f0 = by_group[(0,)]
    assert _rows(f0.purged) == [] and _rows(f0.embargoed) == [5]
    f3 = by_group[(3,)]
    assert _rows(f3.purged) == [13, 14] and _rows(f3.embargoed) == []
    assert (f1.n_purged, f1.n_embargoed, f0.n_purged, f3.n_embargoed) == (2, 1, 0, 0)


def test_hand_worked_cpcv_two_test_groups() -> None:
    plan = cpcv_plan(20, n_groups=4, n_test_groups=2, horizon=2, purge=3, embargo=2)
    assert len(plan.folds) == 6
    by_group = {f.test_groups: f for f in plan.folds}
    adjacent = by_group[(1, 2)]  # one merged block 5..14
    assert adjacent.test == ((5, 15),)
    assert _rows(adjacent.purged) == [2, 3, 4]
    assert _rows(adjacent.embargoed) == [15, 16]
    assert _rows(adjacent.train) == [0, 1, 17, 18, 19]
    apart = by_group[(0, 2)]  # blocks 0..4 and 10..14
    assert _rows(apart.purged) == [7, 8, 9]
    assert _rows(apart.embargoed) == [5, 6, 15, 16]
    assert _rows(apart.train) == [17, 18, 19]


def test_hand_worked_walk_forward() -> None:
    plan = walk_forward_plan(30, test_size=5, min_train_size=8, horizon=3)
    assert [f.test for f in plan.folds] == [((11, 16),), ((16, 21),), ((21, 26),)]
    assert [f.train for f in plan.folds] == [((0, 8),), ((0, 13),), ((0, 18),)]
    assert [_rows(f.purged) for f in plan.folds] == [[8, 9, 10], [13, 14, 15], [18, 19, 20]]
    assert all(f.n_embargoed == 0 for f in plan.folds)  # nothing trains after a test block
    rolling = walk_forward_plan(
        30, test_size=5, min_train_size=8, horizon=3, mode="rolling", train_size=8
    )
    assert [f.train for f in rolling.folds] == [((0, 8),), ((5, 13),), ((10, 18),)]


def test_plan_validation() -> None:
    with pytest.raises(ValueError, match=r"purge must be >= horizon \(4\)"):
        walk_forward_plan(100, test_size=5, min_train_size=10, horizon=4, purge=3)
    with pytest.raises(ValueError, match="too short for one fold"):
        walk_forward_plan(20, test_size=5, min_train_size=14, horizon=2)
    with pytest.raises(ValueError, match="train_size is required"):
        walk_forward_plan(100, test_size=5, min_train_size=10, horizon=2, mode="rolling")
    with pytest.raises(ValueError, match="mode must be one of"):
        walk_forward_plan(100, test_size=5, min_train_size=10, horizon=2, mode="sliding")
    with pytest.raises(ValueError, match="n_test_groups must be < n_groups"):
        cpcv_plan(100, n_groups=3, n_test_groups=3, horizon=1)
    with pytest.raises(TypeError, match="n_groups must be an int"):
        cpcv_plan(100, n_groups=3.0, n_test_groups=1, horizon=1)  # type: ignore[arg-type]


def test_plan_round_trips_through_canonical_json() -> None:
    plan = cpcv_plan(50, n_groups=5, n_test_groups=2, horizon=3, embargo=2)
    doc = canonical_loads(canonical_dumps(plan.to_dict()))
    again = SplitPlan.from_dict(doc)
    assert again.to_dict() == plan.to_dict()
    assert again.digest() == plan.digest() == sha256_json(plan.to_dict())
    other = cpcv_plan(50, n_groups=5, n_test_groups=2, horizon=3, embargo=3)
    assert other.digest() != plan.digest()
    doc["schema_version"] = 99
    with pytest.raises(ValueError, match="schema_version 99"):
        SplitPlan.from_dict(doc)


def test_rows_ranges_round_trip() -> None:
    rows = np.array([5, 1, 2, 3, 9, 10, 3])
    assert rows_to_ranges(rows) == ((1, 4), (5, 6), (9, 11))
    assert ranges_to_rows(rows_to_ranges(rows)).tolist() == [1, 2, 3, 5, 9, 10]
    assert rows_to_ranges([]) == ()


def _check_invariants(plan: SplitPlan) -> None:
    for fold in plan.folds:
        train, test = set(fold.train_rows()), set(fold.test_rows())
        purged = set(ranges_to_rows(fold.purged))
        embargoed = set(ranges_to_rows(fold.embargoed))
        assert not train & test and not purged & embargoed and not (purged | embargoed) & test
        assert not (purged | embargoed) & train
        for s, e in fold.test:
            for t in train:
                assert not (t <= e - 1 and t + plan.purge >= s)  # label window misses the block
                assert not (e <= t < e + plan.embargo)
        if plan.kind == "cpcv":
            assert train | test | purged | embargoed == set(range(plan.n_rows))


@settings(max_examples=80, deadline=None)
@given(
    n_rows=st.integers(10, 120),
    n_groups=st.integers(2, 8),
    k=st.integers(1, 3),
    horizon=st.integers(1, 6),
    extra=st.integers(0, 3),
    embargo=st.integers(0, 5),
)
def test_cpcv_invariants(
    n_rows: int, n_groups: int, k: int, horizon: int, extra: int, embargo: int
) -> None:
    if k >= n_groups or n_groups > n_rows:
        return
    plan = cpcv_plan(
        n_rows,
        n_groups=n_groups,
        n_test_groups=k,
        horizon=horizon,
        purge=horizon + extra,
        embargo=embargo,
    )
    _check_invariants(plan)
    every = np.concatenate([f.test_rows() for f in plan.folds])
    counts = np.bincount(every, minlength=n_rows)
    assert (counts == counts[0]).all()  # every row tested equally often


@settings(max_examples=60, deadline=None)
@given(
    n_rows=st.integers(20, 200),
    test_size=st.integers(1, 20),
    min_train=st.integers(1, 30),
    horizon=st.integers(1, 6),
    rolling=st.booleans(),
)
def test_walk_forward_invariants(
    n_rows: int, test_size: int, min_train: int, horizon: int, rolling: bool
) -> None:
    if min_train + horizon + test_size > n_rows:
        return
    plan = walk_forward_plan(
        n_rows,
        test_size=test_size,
        min_train_size=min_train,
        horizon=horizon,
        mode="rolling" if rolling else "expanding",
        train_size=min_train if rolling else None,
    )
    _check_invariants(plan)
    for fold in plan.folds:
        assert fold.train_rows().max() < fold.test_rows().min()
        assert len(fold.train_rows()) >= min_train
