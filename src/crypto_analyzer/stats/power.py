"""Power and minimum detectable effect of the mean-IC test, analytic and by bootstrap simulation.

A null result on a short history is not evidence of no effect: a run can only detect effects
larger than its design allows. For the test the report and the policy apply — the Newey–West t of
the mean out-of-sample IC — the standard error of the mean IC is

.. math:: \\mathrm{se} = \\sqrt{\\Omega / n}, \\qquad \\Omega = \\sigma_{IC}^2 \\, r

with ``n`` OOS observations, ``σ_IC`` the dispersion of the per-bar IC (about
``1/sqrt(assets - 1)`` for a rank IC without signal: the cross-section width enters here) and
``r = Ω / σ²`` the HAC long-run variance ratio (1 for serially independent ICs). With the critical
value ``z`` of the test at the per-test level (α divided by the family size under Bonferroni; for
Benjamini–Hochberg the same bound holds when a single hypothesis carries the effect [3]_), a true
mean IC ``μ`` gives, treating se as known,

.. math:: \\text{power}(\\mu) = \\Phi(\\mu/\\mathrm{se} - z) + \\Phi(-\\mu/\\mathrm{se} - z)

(two-sided; the second term is the wrong-sign rejection, negligible at useful powers) and the
minimum detectable effect at power ``1 - β`` is ``(z + z_{1-β}) · se`` [1]_. The policy gate "mean
IC ≥ m and HAC t ≥ c" passes with probability ``Φ((μ - max(m, c·se)) / se)``.

For the annualised Sharpe ratio the same argument uses the asymptotic standard error of the
estimated per-period Sharpe ratio, ``sqrt((1 - γ3·SR + (γ4 - 1)/4·SR²)/n)`` [2]_, at SR = 0.

:func:`simulated_power` and :func:`simulated_mde` answer the same questions without the normal
approximation: they resample the de-meaned IC series with the run's block bootstrap, add a true
mean, and apply the Newey–West test to every draw; tests check the analytic values against them.

References
----------
.. [1] Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed., ch. 2.
.. [2] Mertens, E. (2002). Comments on variance of the IID estimator in Lo (2002). Working paper.
.. [3] Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B*,
   57(1), 289–300 (step-up: the smallest p-value is compared with α/m).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from crypto_analyzer.stats._serialize import plain
from crypto_analyzer.stats.block_length import optimal_block_length
from crypto_analyzer.stats.bootstrap import bootstrap_indices
from crypto_analyzer.stats.hac import newey_west

__all__ = [
    "CORRECTIONS",
    "MdeResult",
    "critical_value",
    "gate_power",
    "hac_t_power",
    "ic_test_power",
    "minimum_detectable_ic",
    "minimum_detectable_ic_from_series",
    "minimum_detectable_sharpe",
    "power_from_series",
    "simulated_mde",
    "simulated_power",
]

CORRECTIONS = ("none", "bonferroni", "bh", "by")
"""Multiple-testing corrections the per-test level accounts for (BH/BY: the single-effect bound
α/m, and BY's extra harmonic factor)."""


@dataclass(frozen=True, slots=True)
class MdeResult:
    """Minimum detectable mean IC of one design, and the design.

    Attributes
    ----------
    mde : float
        Smallest true mean IC detected with probability ``power`` at ``alpha_per_test``.
    se : float
        Standard error of the mean IC, ``sqrt(ic_sd**2 * lrv_ratio / n_obs)``.
    n_obs, ic_sd, lrv_ratio
        The design: OOS observations, IC dispersion, HAC long-run variance ratio.
    alpha, alpha_per_test, family_size, correction, sides, power
        The test: family level, per-test level after the correction, two- or one-sided.
    """

    mde: float
    se: float
    n_obs: int
    ic_sd: float
    lrv_ratio: float
    alpha: float
    alpha_per_test: float
    family_size: int
    correction: str
    sides: int
    power: float

    def to_dict(self) -> dict[str, Any]:
        return dict(plain(self))


def _probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise ValueError(f"{name} must be a probability in (0, 1), got {value!r}")
    return float(value)


def critical_value(
    alpha: float, *, family_size: int = 1, correction: str = "bonferroni", sides: int = 2
) -> tuple[float, float]:
    """``(alpha_per_test, z)``: the per-test level after the correction and its normal quantile."""
    alpha = _probability("alpha", alpha)
    if correction not in CORRECTIONS:
        raise ValueError(f"correction {correction!r} is not one of {', '.join(CORRECTIONS)}")
    if isinstance(family_size, bool) or not isinstance(family_size, int) or family_size < 1:
        raise ValueError(f"family_size must be an integer >= 1, got {family_size!r}")
    if sides not in (1, 2):
        raise ValueError(f"sides must be 1 or 2, got {sides!r}")
    per_test = alpha
    if correction != "none":
        per_test = alpha / family_size
    if correction == "by":
        per_test /= sum(1.0 / k for k in range(1, family_size + 1))
    return per_test, float(norm.ppf(1.0 - per_test / sides))


def ic_test_power(
    true_ic: float,
    *,
    se: float,
    alpha: float = 0.05,
    family_size: int = 1,
    correction: str = "bonferroni",
    sides: int = 2,
) -> float:
    """Probability that the HAC t-test of the mean IC rejects when the true mean is ``true_ic``."""
    if not (math.isfinite(se) and se > 0):
        raise ValueError(f"se must be finite and > 0, got {se!r}")
    _, z = critical_value(alpha, family_size=family_size, correction=correction, sides=sides)
    shift = float(true_ic) / se
    power = float(norm.cdf(shift - z))
    if sides == 2:
        power += float(norm.cdf(-shift - z))
    return power


def gate_power(true_ic: float, *, se: float, min_mean_ic: float, min_hac_t: float) -> float:
    """Probability of passing "mean IC ≥ ``min_mean_ic`` and HAC t ≥ ``min_hac_t``" at
    ``true_ic`` (the policy's effect gate; se treated as known)."""
    if not (math.isfinite(se) and se > 0):
        raise ValueError(f"se must be finite and > 0, got {se!r}")
    bar = max(float(min_mean_ic), float(min_hac_t) * se)
    return float(norm.cdf((float(true_ic) - bar) / se))


def hac_t_power(true_ic: float, *, se: float, min_t: float) -> float:
    """Probability that the HAC t reaches ``min_t`` when the true mean IC is ``true_ic``:
    ``Φ(true_ic/se − min_t)`` — the policy's significance threshold instead of α's quantile."""
    if not (math.isfinite(se) and se > 0):
        raise ValueError(f"se must be finite and > 0, got {se!r}")
    return float(norm.cdf(float(true_ic) / se - float(min_t)))


def minimum_detectable_ic(
    *,
    n_obs: int,
    ic_sd: float,
    lrv_ratio: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
    family_size: int = 1,
    correction: str = "bonferroni",
    sides: int = 2,
) -> MdeResult:
    """Minimum detectable mean IC of a design (see the module docstring)."""
    if isinstance(n_obs, bool) or not isinstance(n_obs, int) or n_obs < 2:
        raise ValueError(f"n_obs must be an integer >= 2, got {n_obs!r}")
    if not (math.isfinite(ic_sd) and ic_sd > 0):
        raise ValueError(f"ic_sd must be finite and > 0, got {ic_sd!r}")
    if not (math.isfinite(lrv_ratio) and lrv_ratio > 0):
        raise ValueError(f"lrv_ratio must be finite and > 0, got {lrv_ratio!r}")
    power = _probability("power", power)
    per_test, z = critical_value(alpha, family_size=family_size, correction=correction, sides=sides)
    se = math.sqrt(ic_sd**2 * lrv_ratio / n_obs)
    return MdeResult(
        mde=(z + float(norm.ppf(power))) * se,
        se=se,
        n_obs=n_obs,
        ic_sd=float(ic_sd),
        lrv_ratio=float(lrv_ratio),
        alpha=float(alpha),
        alpha_per_test=per_test,
        family_size=family_size,
        correction=correction,
        sides=sides,
        power=power,
    )


def minimum_detectable_sharpe(
    *,
    n_obs: int,
    periods_per_year: float,
    alpha: float = 0.05,
    power: float = 0.8,
    family_size: int = 1,
    correction: str = "bonferroni",
    sides: int = 2,
) -> float:
    """Minimum detectable *annualised* Sharpe ratio from ``n_obs`` return periods (SR = 0 s.e.)."""
    if isinstance(n_obs, bool) or not isinstance(n_obs, int) or n_obs < 2:
        raise ValueError(f"n_obs must be an integer >= 2, got {n_obs!r}")
    if not (math.isfinite(periods_per_year) and periods_per_year > 0):
        raise ValueError(f"periods_per_year must be finite and > 0, got {periods_per_year!r}")
    _, z = critical_value(alpha, family_size=family_size, correction=correction, sides=sides)
    per_period = (z + float(norm.ppf(_probability("power", power)))) / math.sqrt(n_obs)
    return per_period * math.sqrt(periods_per_year)


def _series(ic: Any) -> np.ndarray:
    values = np.asarray(ic, dtype=float)
    if values.ndim != 1 or values.size < 3:
        raise ValueError(f"ic must be a 1-D series of at least 3 values, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError("ic contains NaN or inf; drop missing periods first")
    return values


def minimum_detectable_ic_from_series(
    ic: Any, *, lags: int | None = None, **test: Any
) -> MdeResult:
    """:func:`minimum_detectable_ic` for the design of an observed IC series (its length, its
    dispersion and its Newey–West long-run variance ratio); ``test``: alpha, power, family_size,
    correction, sides."""
    values = _series(ic)
    hac = newey_west(values, lags=lags)
    sd = float(np.std(values, ddof=0))
    ratio = hac.long_run_variance / sd**2 if sd > 0 else 1.0
    return minimum_detectable_ic(n_obs=int(values.size), ic_sd=sd, lrv_ratio=ratio, **test)


def power_from_series(ic: Any, *, true_ic: float, lags: int | None = None, **test: Any) -> float:
    """:func:`ic_test_power` with the standard error of an observed IC series' design."""
    mde = minimum_detectable_ic_from_series(ic, lags=lags)
    return ic_test_power(true_ic, se=mde.se, **test)


def _draws(
    ic: Any, *, seed: int, reps: int, block_length: float | None, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """(mean, HAC se) of each bootstrap draw of the de-meaned series."""
    values = _series(ic)
    centred = values - values.mean()
    if block_length is None:
        found = optimal_block_length(centred)
        block_length = float(np.ravel(getattr(found, method))[0])
    block_length = min(max(1.0, float(block_length)), float(values.size))
    indices = bootstrap_indices(
        values.size, method=method, block_length=block_length, reps=reps, seed=seed
    ).indices
    means = np.empty(reps)
    ses = np.empty(reps)
    for row in range(reps):
        draw = newey_west(centred[indices[row]])
        means[row], ses[row] = draw.mean, draw.se
    return means, ses


def simulated_power(
    ic: Any,
    *,
    true_ic: float,
    seed: int,
    reps: int = 500,
    block_length: float | None = None,
    method: str = "stationary",
    **test: Any,
) -> float:
    """Share of bootstrap worlds (de-meaned ``ic`` resampled, ``true_ic`` added) in which the
    Newey–West test rejects (``test``: alpha, family_size, correction, sides)."""
    means, ses = _draws(ic, seed=seed, reps=reps, block_length=block_length, method=method)
    _, z = critical_value(**{"alpha": 0.05, **test})
    t = (means + float(true_ic)) / ses
    sides = int(test.get("sides", 2))
    rejected = (t >= z) | ((t <= -z) if sides == 2 else False)
    return float(np.mean(rejected))


def simulated_mde(
    ic: Any,
    *,
    seed: int,
    power: float = 0.8,
    reps: int = 500,
    block_length: float | None = None,
    method: str = "stationary",
    **test: Any,
) -> float:
    """The true mean IC detected in a share ``power`` of bootstrap worlds (positive direction).

    A shift ``μ`` makes draw ``b`` reject exactly when ``μ ≥ z·se_b − mean_b`` (the HAC variance
    does not depend on the mean), so the answer is that quantity's ``power`` quantile — exact for
    the draws, with no search.
    """
    means, ses = _draws(ic, seed=seed, reps=reps, block_length=block_length, method=method)
    _, z = critical_value(**{"alpha": 0.05, **test})
    return float(np.quantile(z * ses - means, _probability("power", power)))
