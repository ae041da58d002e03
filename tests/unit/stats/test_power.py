"""Power and minimum detectable IC: the analytic values agree with simulation of the same design.

Two independent checks: a parametric Monte Carlo (AR(1) IC series with a known long-run variance,
tested with the real Newey–West test) and the bootstrap simulation of :mod:`stats.power` on an
observed series. Both must put the minimum detectable IC within 10 % (relative) of the formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from crypto_analyzer.stats import newey_west
from crypto_analyzer.stats.power import (
    critical_value,
    gate_power,
    hac_t_power,
    ic_test_power,
    minimum_detectable_ic,
    minimum_detectable_ic_from_series,
    minimum_detectable_sharpe,
    power_from_series,
    simulated_mde,
    simulated_power,
)


def _ar1(n: int, phi: float, sd: float, rng: np.random.Generator) -> np.ndarray:
    shocks = rng.standard_normal(n) * sd * math.sqrt(1 - phi**2)
    x = np.empty(n)
    x[0] = rng.standard_normal() * sd
    for i in range(1, n):
        x[i] = phi * x[i - 1] + shocks[i]
    return x


@pytest.mark.parametrize(("n", "phi", "family"), [(1500, 0.0, 1), (2000, 0.3, 10), (800, 0.2, 5)])
def test_analytic_mde_matches_a_parametric_monte_carlo(n: int, phi: float, family: int) -> None:
    design = minimum_detectable_ic(
        n_obs=n, ic_sd=0.15, lrv_ratio=(1 + phi) / (1 - phi), family_size=family
    )
    rng = np.random.default_rng(2024 + n)
    _, z = critical_value(0.05, family_size=family)
    stats = [newey_west(_ar1(n, phi, 0.15, rng)) for _ in range(400)]
    # a shift mu makes a draw reject exactly when mu >= z*se - mean (se does not move with mu)
    needed = np.array([z * item.se - item.mean for item in stats])
    simulated = float(np.quantile(needed, 0.8))
    assert abs(design.mde / simulated - 1) < 0.10, (design.mde, simulated)
    # and at the analytic MDE the simulated rejection rate is about 80 %
    rate = float(np.mean(needed <= design.mde))
    assert abs(rate - 0.8) < 3 * math.sqrt(0.8 * 0.2 / 400) + 0.05, rate


@pytest.mark.parametrize("phi", [0.0, 0.3])
def test_analytic_mde_from_a_series_matches_its_bootstrap_simulation(phi: float) -> None:
    ic = _ar1(2000, phi, 0.15, np.random.default_rng(7)) + 0.01
    analytic = minimum_detectable_ic_from_series(ic, family_size=10)
    simulated = simulated_mde(ic, seed=11, reps=400, family_size=10)
    assert abs(analytic.mde / simulated - 1) < 0.10, (analytic.mde, simulated)
    assert 0.7 < simulated_power(ic, true_ic=analytic.mde, seed=11, reps=400, family_size=10) < 0.9


def test_power_grows_with_the_effect_and_the_history() -> None:
    powers = [ic_test_power(mu, se=0.01) for mu in (0.0, 0.01, 0.02, 0.04)]
    assert powers == sorted(powers)
    assert powers[0] == pytest.approx(0.05, abs=1e-9)  # size at no effect
    short = minimum_detectable_ic(n_obs=240, ic_sd=0.15)
    long = minimum_detectable_ic(n_obs=6000, ic_sd=0.15)
    assert long.mde < short.mde
    assert long.mde * 5 == pytest.approx(short.mde, rel=1e-9)  # se ~ 1/sqrt(n): 25x obs, 1/5


def test_the_demo_design_detects_the_planted_signal_and_a_30_day_design_does_not() -> None:
    # demo: 50 assets (rank IC dispersion ~ 1/sqrt(49)), ~6,000 hourly OOS bars, family of 10
    demo = minimum_detectable_ic(n_obs=6000, ic_sd=1 / 7, family_size=10)
    assert ic_test_power(0.06, se=demo.se, family_size=10) > 0.8
    assert hac_t_power(0.02, se=demo.se, min_t=2.5) > 0.8
    # 30 days of hourly bars, most used for training: ~240 OOS bars
    short = minimum_detectable_ic(n_obs=240, ic_sd=1 / 7, family_size=10)
    assert hac_t_power(0.02, se=short.se, min_t=2.5) < 0.8
    assert short.mde > 0.02


def test_gate_power_is_the_probability_of_clearing_both_thresholds() -> None:
    se = 0.005
    assert gate_power(0.02, se=se, min_mean_ic=0.02, min_hac_t=2.5) == pytest.approx(0.5)
    assert gate_power(0.03, se=se, min_mean_ic=0.02, min_hac_t=2.5) > 0.9
    # when the t threshold binds (2.5 * 0.01 > 0.02), it is the bar
    assert gate_power(0.025, se=0.01, min_mean_ic=0.02, min_hac_t=2.5) == pytest.approx(0.5)


def test_series_helpers_use_the_newey_west_standard_error() -> None:
    ic = _ar1(1000, 0.2, 0.1, np.random.default_rng(3))
    se = newey_west(ic).se
    assert minimum_detectable_ic_from_series(ic).se == pytest.approx(se, rel=1e-9)
    assert power_from_series(ic, true_ic=0.02) == pytest.approx(ic_test_power(0.02, se=se))


def test_sharpe_mde_is_annualised() -> None:
    hourly = minimum_detectable_sharpe(n_obs=8760, periods_per_year=8760)
    assert hourly == pytest.approx((1.959963984540054 + 0.8416212335729143), rel=1e-6)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: minimum_detectable_ic(n_obs=1, ic_sd=0.1), "n_obs"),
        (lambda: minimum_detectable_ic(n_obs=100, ic_sd=0.0), "ic_sd"),
        (lambda: minimum_detectable_ic(n_obs=100, ic_sd=0.1, power=1.0), "power"),
        (lambda: critical_value(0.05, correction="fdr"), "correction"),
        (lambda: critical_value(0.05, family_size=0), "family_size"),
        (lambda: ic_test_power(0.02, se=0.0), "se"),
        (lambda: minimum_detectable_ic_from_series([0.1, np.nan, 0.2, 0.3]), "NaN"),
    ],
)
def test_bad_arguments_are_refused_by_name(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
