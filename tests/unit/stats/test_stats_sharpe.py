"""PSR, DSR, MinTRL and the effective number of trials."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from stats_helpers import oracle_vectors

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.stats import (
    deflated_sharpe_ratio,
    deflated_sharpe_ratio_from_moments,
    effective_number_of_trials,
    expected_max_sharpe,
    minimum_track_record_length,
    probabilistic_sharpe_ratio,
)


@pytest.mark.parametrize("vector", oracle_vectors("dsr"), ids=lambda v: v["id"])
def test_dsr_reproduces_bailey_lopez_de_prado_example(vector: dict) -> None:
    a = vector["inputs"]
    per_year = a["periods_per_year"]
    res = deflated_sharpe_ratio_from_moments(
        a["annual_sharpe"] / math.sqrt(per_year),
        n_obs=a["n_obs"],
        skewness=a["skewness"],
        kurtosis=a["kurtosis"],
        trial_sharpe_variance=a["annual_sharpe_variance"] / per_year,
        n_trials=a["n_trials"],
        periods_per_year=None,
    )
    assert res.sr0 == pytest.approx(vector["expected"]["sr0"], abs=vector["tolerance"]["sr0"])
    assert res.dsr == pytest.approx(vector["expected"]["dsr"], abs=vector["tolerance"]["dsr"])


def test_psr_matches_formula_with_scipy_moments() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_t(5, 500) * 0.01 + 0.001
    res = probabilistic_sharpe_ratio(x, benchmark_sharpe=0.02)
    sr = x.mean() / x.std(ddof=1)
    g3 = sps.skew(x)
    g4 = sps.kurtosis(x, fisher=False)
    z = (sr - 0.02) * math.sqrt(499) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    assert res.sharpe == pytest.approx(sr, rel=1e-12)
    assert res.skewness == pytest.approx(g3, rel=1e-10)
    assert res.kurtosis == pytest.approx(g4, rel=1e-10)
    assert res.psr == pytest.approx(sps.norm.cdf(z), rel=1e-12)


def test_min_trl_makes_psr_hit_the_confidence_exactly() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal(300) * 0.02 + 0.003
    mtrl = minimum_track_record_length(x, benchmark_sharpe=0.0, confidence=0.95)
    assert mtrl.min_trl is not None
    factor = 1 - mtrl.skewness * mtrl.sharpe + (mtrl.kurtosis - 1) / 4 * mtrl.sharpe**2
    z = mtrl.sharpe * math.sqrt(mtrl.min_trl - 1) / math.sqrt(factor)
    assert sps.norm.cdf(z) == pytest.approx(0.95, abs=1e-12)


def test_min_trl_undefined_when_sharpe_below_benchmark() -> None:
    x = np.random.default_rng(3).standard_normal(100) - 0.5
    res = minimum_track_record_length(x, benchmark_sharpe=0.0)
    assert res.min_trl is None and "does not exceed" in (res.reason or "")
    canonical_dumps(res.to_dict())


def test_expected_max_sharpe_edges() -> None:
    assert expected_max_sharpe(1, 0.3) == 0.0
    assert expected_max_sharpe(10, 0.0) == 0.0
    assert expected_max_sharpe(100, 1.0) > expected_max_sharpe(10, 1.0) > 0


def test_dsr_from_returns_uses_trial_variance_and_count() -> None:
    rng = np.random.default_rng(4)
    panel = rng.standard_normal((500, 20)) * 0.01
    panel[:, 0] += 0.002
    sharpes = panel.mean(axis=0) / panel.std(axis=0, ddof=1)
    res = deflated_sharpe_ratio(panel[:, 0], trial_sharpes=sharpes)
    assert res.n_trials == 20
    assert res.trial_sharpe_variance == pytest.approx(np.var(sharpes, ddof=1))
    assert res.sr0 == pytest.approx(expected_max_sharpe(20, np.var(sharpes, ddof=1)))
    fewer = deflated_sharpe_ratio(panel[:, 0], trial_sharpes=sharpes, n_trials=5.5)
    assert fewer.dsr > res.dsr
    canonical_dumps(res.to_dict())


def test_effective_trials_hand_cases() -> None:
    rng = np.random.default_rng(5)
    z = rng.standard_normal((4000, 2))
    rho = 0.6
    pair = np.column_stack([z[:, 0], rho * z[:, 0] + math.sqrt(1 - rho**2) * z[:, 1]])
    res = effective_number_of_trials(pair)
    r = np.corrcoef(pair, rowvar=False)[0, 1]
    # eigenvalues 1 +/- r, Var(ddof=1) = 2 r^2 -> N_eff = 1 + (1 - 2 r^2 / 2) = 2 - r^2.
    assert res.n_eff == pytest.approx(2 - r**2, rel=1e-12)
    base = rng.standard_normal((200, 1))
    same = np.hstack([base, 2 * base, 3 * base + 1])
    assert effective_number_of_trials(same).n_eff == pytest.approx(1.0, abs=1e-9)
    independent = rng.standard_normal((20000, 8))
    assert effective_number_of_trials(independent).n_eff == pytest.approx(8.0, abs=0.05)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: probabilistic_sharpe_ratio(np.ones(10)), ValueError, "constant"),
        (lambda: probabilistic_sharpe_ratio(np.ones(2)), ValueError, "at least 3"),
        (lambda: probabilistic_sharpe_ratio(np.array([1.0, np.nan, 2])), ValueError, "NaN"),
        (
            lambda: probabilistic_sharpe_ratio(np.arange(5.0), benchmark_sharpe="0"),
            TypeError,
            "benchmark_sharpe",
        ),
        (
            lambda: minimum_track_record_length(np.arange(5.0), confidence=1.5),
            ValueError,
            "confidence",
        ),
        (lambda: expected_max_sharpe(0.5, 1.0), ValueError, "n_trials"),
        (
            lambda: deflated_sharpe_ratio(np.arange(5.0), trial_sharpes=np.array([0.1])),
            ValueError,
            "at least 2",
        ),
        (lambda: effective_number_of_trials(np.ones((10, 2))), ValueError, "constant"),
    ],
)
def test_validation(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("vector", oracle_vectors("dsr"), ids=lambda v: v["id"])
def test_dsr_from_moments_units_are_explicit(vector: dict) -> None:
    a = vector["inputs"]
    kwargs = {
        "n_obs": a["n_obs"],
        "skewness": a["skewness"],
        "kurtosis": a["kurtosis"],
        "trial_sharpe_variance": a["annual_sharpe_variance"],
        "n_trials": a["n_trials"],
    }
    # The units must be stated: annualised values passed silently used to give DSR ~ 1.0.
    with pytest.raises(TypeError, match="periods_per_year"):
        deflated_sharpe_ratio_from_moments(a["annual_sharpe"], **kwargs)  # type: ignore[call-arg]
    res = deflated_sharpe_ratio_from_moments(
        a["annual_sharpe"], periods_per_year=a["periods_per_year"], **kwargs
    )
    assert res.dsr == pytest.approx(vector["expected"]["dsr"], abs=vector["tolerance"]["dsr"])
    # An annualised Sharpe of 2.5 read as per-period, with skew 3 and kurtosis 1.5, is no
    # sample's moments (negative variance factor): refused, not turned into a number.
    with pytest.raises(ValueError, match=r"sharpe=2\.5 per period .* negative"):
        deflated_sharpe_ratio_from_moments(
            a["annual_sharpe"],
            periods_per_year=None,
            **{**kwargs, "skewness": 3.0, "kurtosis": 1.5},
        )
    with pytest.raises(ValueError, match="periods_per_year"):
        deflated_sharpe_ratio_from_moments(0.05, periods_per_year=0.5, **kwargs)
