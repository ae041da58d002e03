"""Reality Check, SPA and StepM against arch 8.0 (B = 10,000) plus skip reasons and validation."""

from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import SPA, StepM
from stats_helpers import FamilyData, family_datasets

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.stats import (
    family_tests,
    loss_differentials,
    reality_check,
    spa,
    stepm,
)

B = 10_000
BLOCK = 10
TOL = 0.02  # Monte-Carlo tolerance on |p_ours - p_arch| with B = 10,000 each.
DATASETS = {f.name: f for f in family_datasets()}


def _kappa_variance(d: np.ndarray, block: float) -> np.ndarray:
    """Stationary-bootstrap variance of sqrt(n) * mean, written out lag by lag (Hansen 2005)."""
    n = d.shape[0]
    e = d - d.mean(axis=0)
    q = 1.0 - 1.0 / block
    var = (e * e).sum(axis=0) / n
    for i in range(1, n):
        kappa = (1 - i / n) * q**i + (i / n) * q ** (n - i)
        var = var + 2 * kappa * (e[:-i] * e[i:]).sum(axis=0) / n
    return var


def _arch_spa(benchmark: np.ndarray, models: np.ndarray, seed: int) -> SPA:
    test = SPA(benchmark, models, block_size=BLOCK, reps=B, seed=seed)
    test.compute()
    return test


def _arch_stepm_pvalues(test: SPA, means: np.ndarray, variant: str) -> np.ndarray:
    """Step-down adjusted p-values rebuilt from arch's SPA on nested subsets (public subset())."""
    order = np.argsort(-means, kind="stable")
    raw = []
    for j in range(means.size):
        keep = np.zeros(means.size, dtype=bool)
        keep[order[j:]] = True
        test.subset(keep)
        test.compute()
        raw.append(float(test.pvalues[variant]))
    test.subset(np.ones(means.size, dtype=bool))
    adjusted = np.empty(means.size)
    adjusted[order] = np.maximum.accumulate(raw)
    return adjusted


@pytest.fixture(scope="module", params=sorted(DATASETS))
def dataset(request: pytest.FixtureRequest) -> FamilyData:
    return DATASETS[request.param]


@pytest.fixture(scope="module")
def arch_plain(dataset: FamilyData) -> SPA:
    return _arch_spa(dataset.benchmark, dataset.models, seed=11)


def test_rc_and_unstudentized_spa_match_arch(dataset: FamilyData, arch_plain: SPA) -> None:
    # arch omits Hansen's floor at 0; the statistics coincide when some mean is positive.
    assert dataset.d.mean(axis=0).max() > 0
    ours = spa(dataset.d, seed=5, reps=B, block_length=BLOCK, studentize=False)
    rc = reality_check(dataset.d, seed=6, reps=B, block_length=BLOCK)
    expected = arch_plain.pvalues
    assert abs(rc.p_value - expected["upper"]) <= TOL
    assert abs(ours.pvalue_lower - expected["lower"]) <= TOL
    assert abs(ours.pvalue_consistent - expected["consistent"]) <= TOL
    assert abs(ours.pvalue_upper - expected["upper"]) <= TOL


def test_studentized_spa_matches_arch_on_prescaled_data(dataset: FamilyData) -> None:
    # Hansen's studentization divides by a fixed omega_k, so arch on d / omega is the oracle.
    omega = np.sqrt(_kappa_variance(dataset.d, BLOCK))
    scaled = _arch_spa(np.zeros(dataset.d.shape[0]), -dataset.d / omega, seed=12)
    ours = spa(dataset.d, seed=7, reps=B, block_length=BLOCK)
    expected = scaled.pvalues
    assert abs(ours.pvalue_lower - expected["lower"]) <= TOL
    assert abs(ours.pvalue_consistent - expected["consistent"]) <= TOL
    assert abs(ours.pvalue_upper - expected["upper"]) <= TOL
    # Default StepM (studentized, Romano-Wolf "upper" recentring) against the same oracle.
    rw = stepm(dataset.d, seed=8, reps=B, block_length=BLOCK)
    oracle = _arch_stepm_pvalues(scaled, dataset.d.mean(axis=0) / omega, "upper")
    np.testing.assert_allclose(rw.adjusted_pvalues, oracle, atol=TOL, rtol=0)


def test_stepm_matches_arch(dataset: FamilyData, arch_plain: SPA) -> None:
    ours = stepm(
        dataset.d, seed=9, reps=B, block_length=BLOCK, studentize=False, recentring="consistent"
    )
    oracle = _arch_stepm_pvalues(arch_plain, dataset.d.mean(axis=0), "consistent")
    np.testing.assert_allclose(ours.adjusted_pvalues, oracle, atol=TOL, rtol=0)
    arch_stepm = StepM(dataset.benchmark, dataset.models, block_size=BLOCK, reps=B, seed=13)
    ids = ours.hypothesis_ids
    clear = {ids[k] for k, p in enumerate(ours.adjusted_pvalues) if abs(p - 0.05) > TOL}
    if dataset.name == "all_superior":
        # arch 8.0 removes the step-1 rejections, rejects the rest in step 2, then reruns SPA on
        # an empty set and fails; the set it would report is every model, which we check here.
        with pytest.raises(ValueError, match="zero-size array"):
            arch_stepm.compute()
        assert set(ours.rejected) == set(ids)
        assert all(p <= 0.05 for p in oracle)
        return
    arch_stepm.compute()
    arch_set = {ids[k] for k in arch_stepm.superior_models}
    assert set(ours.rejected) & clear == arch_set & clear


def test_strong_and_none_datasets_give_extreme_pvalues() -> None:
    strong = spa(DATASETS["strong"].d, seed=1, reps=2000, block_length=BLOCK)
    none = spa(DATASETS["none"].d, seed=1, reps=2000, block_length=BLOCK)
    assert strong.pvalue_consistent == 0.0
    assert none.pvalue_consistent > 0.5


def test_family_shares_one_draw_with_standalone_calls() -> None:
    d = DATASETS["mixed"].d
    both = family_tests(d, seed=21, reps=500)
    assert both.spa.to_dict() == spa(d, seed=21, reps=500).to_dict()
    assert both.stepm.to_dict() == stepm(d, seed=21, reps=500).to_dict()
    assert both.reality_check.to_dict() == reality_check(d, seed=21, reps=500).to_dict()
    assert both.spa.block_length_rule == "politis-white"
    canonical_dumps(both.to_dict())


def test_result_records_settings() -> None:
    d = DATASETS["mixed"].d
    res = stepm(
        d,
        seed=3,
        reps=300,
        block_length=7,
        bootstrap="circular",
        hypothesis_ids=[f"s{i}" for i in range(12)],
    )
    data = res.to_dict()
    assert data["reps_requested"] == data["reps_actual"] == 300
    assert data["block_length"] == 7 and data["block_length_rule"] == "user"
    assert data["bootstrap"] == "circular" and data["seed"] == 3
    assert data["hypothesis_ids"][0] == "s0" and data["skip_reason"] is None
    assert data["method"] == "stepm"


def test_missing_rows_are_dropped_and_too_few_common_rows_skip() -> None:
    rng = np.random.default_rng(0)
    d = rng.standard_normal((60, 3))
    d[::2, 0] = np.nan
    d[1::4, 1] = np.nan
    res = spa(d, seed=1, reps=100)
    assert res.skip_reason is not None and "common observations" in res.skip_reason
    assert res.pvalue_consistent is None and res.reps_actual == 0 and res.reps_requested == 100
    assert res.n_obs == 15 and res.n_obs_total == 60
    fine = spa(d, seed=1, reps=100, min_obs=10)
    assert fine.skip_reason is None and fine.n_obs == 15
    canonical_dumps(res.to_dict())


def test_zero_variance_hypothesis_skips_only_when_studentized() -> None:
    d = np.random.default_rng(1).standard_normal((80, 2))
    d[:, 1] = 0.0
    assert spa(d, seed=1, reps=100).skip_reason is not None
    assert spa(d, seed=1, reps=100, studentize=False).skip_reason is None
    assert reality_check(d, seed=1, reps=100).skip_reason is None


def test_loss_differentials_sign() -> None:
    bench = np.array([1.0, 2.0, 3.0])
    models = np.array([[0.5, 1.0], [2.0, 2.5], [2.0, 4.0]])
    np.testing.assert_array_equal(
        loss_differentials(bench, models), [[0.5, 0.0], [0.0, -0.5], [1.0, -1.0]]
    )
    with pytest.raises(ValueError, match="rows"):
        loss_differentials(bench, models[:2])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"d": [[1.0]]}, TypeError, "d must be a numpy.ndarray"),
        ({"d": np.full((40, 2), np.inf)}, ValueError, "inf"),
        ({"reps": 0}, ValueError, "reps must be >= 1"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"bootstrap": "mbb"}, ValueError, "bootstrap must be one of"),
        ({"block_length": 0.5}, ValueError, "block_length"),
        ({"block_length": 2.5, "bootstrap": "circular"}, TypeError, "block_length must be an int"),
        ({"studentize": 1}, TypeError, "studentize must be a bool"),
        ({"hypothesis_ids": ["a", "a"]}, ValueError, "unique"),
        ({"alpha": 0.0}, ValueError, "alpha"),
        ({"recentring": "middle"}, ValueError, "recentring must be one of"),
        ({"min_obs": 2}, ValueError, "min_obs"),
    ],
)
def test_validation(kwargs: dict, error: type, match: str) -> None:
    args = {"d": np.random.default_rng(0).standard_normal((40, 2)), "seed": 1, "reps": 10}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        stepm(**args)
