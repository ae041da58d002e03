"""Combinatorial purged cross-validation (CPCV) plans.

Walk-forward gives one backtest path; CPCV cuts the sample into ``N`` contiguous groups and tests
on every choice of ``k`` of them, training on the rest after purge and embargo, so every group is
tested ``C(N-1, k-1)`` times and the folds can be assembled into ``k/N * C(N, k)`` full paths. That
gives a distribution of out-of-sample results instead of a single path (the input to PBO/CSCV).

References
----------
.. [1] Lopez de Prado, M. (2018). *Advances in Financial Machine Learning*, section 12.4.
"""

from __future__ import annotations

import itertools
from types import MappingProxyType
from typing import Any

import numpy as np

from crypto_analyzer.research._checks import check_int
from crypto_analyzer.research.splits import Fold, SplitPlan, _common_iv, _make_fold

__all__ = ["cpcv_plan"]


def _cpcv_iv(
    n_rows: Any, n_groups: Any, n_test_groups: Any, horizon: Any, purge: Any, embargo: Any
) -> tuple[int, ...]:
    n_rows, horizon, purge, embargo = _common_iv(n_rows, horizon, purge, embargo)
    n_groups = check_int("n_groups", n_groups, minimum=2)
    if n_groups > n_rows:
        raise ValueError(f"n_groups must be <= n_rows ({n_rows}), got {n_groups}")
    n_test_groups = check_int("n_test_groups", n_test_groups, minimum=1)
    if n_test_groups >= n_groups:
        raise ValueError(f"n_test_groups must be < n_groups ({n_groups}), got {n_test_groups}")
    return n_rows, n_groups, n_test_groups, horizon, purge, embargo


def cpcv_plan(
    n_rows: int,
    *,
    n_groups: int,
    n_test_groups: int,
    horizon: int,
    purge: int | None = None,
    embargo: int = 0,
) -> SplitPlan:
    """Combinatorial purged cross-validation: every choice of ``k`` of ``N`` groups as the test set.

    The rows are cut into ``n_groups`` contiguous groups (sizes differ by at most one). Each of the
    ``C(N, k)`` folds tests on ``n_test_groups`` groups and trains on all other rows after purge
    (before each test block) and embargo (after each test block). Adjacent test groups form one
    block. Folds are listed in lexicographic order of their group tuples (``test_groups``), so
    backtest paths (each group tested ``C(N-1, k-1)`` times) can be assembled from the plan.

    Returns
    -------
    SplitPlan
    """
    n_rows, n_groups, k, horizon, purge, embargo = _cpcv_iv(
        n_rows, n_groups, n_test_groups, horizon, purge, embargo
    )
    bounds = [(int(g[0]), int(g[-1]) + 1) for g in np.array_split(np.arange(n_rows), n_groups)]
    folds: list[Fold] = []
    for groups in itertools.combinations(range(n_groups), k):
        test = np.zeros(n_rows, dtype=bool)
        for g in groups:
            test[bounds[g][0] : bounds[g][1]] = True
        candidate = np.ones(n_rows, dtype=bool)
        folds.append(_make_fold(len(folds), n_rows, candidate, test, purge, embargo, groups))
    params = {"n_groups": n_groups, "n_test_groups": k, "group_bounds": [list(b) for b in bounds]}
    return SplitPlan(
        "cpcv", n_rows, horizon, purge, embargo, MappingProxyType(params), tuple(folds)
    )
