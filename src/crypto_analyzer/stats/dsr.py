"""Deflated Sharpe ratio (Bailey & Lopez de Prado 2014) with an eigenvalue-based trial count."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from crypto_analyzer.stats import _validation as v
from crypto_analyzer.stats._serialize import plain
from crypto_analyzer.stats.psr import _returns_iv, psr_from_moments, sharpe_moments

__all__ = [
    "DsrResult",
    "EffectiveTrialsResult",
    "deflated_sharpe_ratio",
    "deflated_sharpe_ratio_from_moments",
    "effective_number_of_trials",
    "expected_max_sharpe",
]

EULER_GAMMA = 0.5772156649015329


@dataclass(frozen=True)
class DsrResult:
    """Deflated Sharpe ratio of the selected strategy.

    Attributes
    ----------
    dsr : float
        :math:`\\widehat{PSR}(SR_0)`: probability that the true Sharpe exceeds the expected maximum
        of ``n_trials`` unskilled trials.
    z : float
    sharpe : float
        Per-period Sharpe of the selected strategy.
    sr0 : float
        Expected maximum Sharpe under the null (per period).
    n_trials : float
        Number of (effective) independent trials used.
    trial_sharpe_variance : float
        Cross-trial variance of the Sharpe ratios.
    skewness, kurtosis : float
    n_obs : int
    """

    dsr: float
    z: float
    sharpe: float
    sr0: float
    n_trials: float
    trial_sharpe_variance: float
    skewness: float
    kurtosis: float
    n_obs: int

    def to_dict(self) -> dict[str, Any]:
        """Plain, canonical-JSON-compatible fields."""
        return plain(self)


@dataclass(frozen=True)
class EffectiveTrialsResult:
    """Effective number of independent trials from the strategies' correlation eigenvalues."""

    n_eff: float
    n_trials: int
    eigenvalues: tuple[float, ...]
    method: str = "nyholt-2004"

    def to_dict(self) -> dict[str, Any]:
        """Plain, canonical-JSON-compatible fields."""
        return plain(self)


def _expected_max_sharpe_iv(n_trials: Any, sharpe_variance: Any) -> tuple[float, float]:
    return (
        v.real(n_trials, "n_trials", low=1.0),
        v.real(sharpe_variance, "sharpe_variance", low=0.0),
    )


def expected_max_sharpe(n_trials: float, sharpe_variance: float) -> float:
    r"""Expected maximum of ``n_trials`` Sharpe ratios whose true value is 0.

    .. math::

       SR_0 = \sqrt{V[\widehat{SR}_n]}\Bigl((1-\gamma)\Phi^{-1}(1 - N^{-1})
       + \gamma\Phi^{-1}(1 - (Ne)^{-1})\Bigr)

    (eq. 2 of Bailey & Lopez de Prado 2014, :math:`\gamma` the Euler-Mascheroni constant).
    ``n_trials`` may be fractional (an effective count) but must be ``>= 1``; ``1`` gives 0.
    """
    n, var = _expected_max_sharpe_iv(n_trials, sharpe_variance)
    if n == 1.0:
        return 0.0
    quantiles = (1.0 - EULER_GAMMA) * float(special.ndtri(1.0 - 1.0 / n)) + EULER_GAMMA * float(
        special.ndtri(1.0 - 1.0 / (n * math.e))
    )
    return math.sqrt(var) * quantiles


def _deflated_sharpe_ratio_from_moments_iv(**kwargs: Any) -> dict[str, float]:
    out = {
        "sharpe": v.real(kwargs["sharpe"], "sharpe"),
        "n_obs": float(v.integer(kwargs["n_obs"], "n_obs", minimum=2)),
        "skewness": v.real(kwargs["skewness"], "skewness"),
        "kurtosis": v.real(kwargs["kurtosis"], "kurtosis", low=1.0),
        "trial_sharpe_variance": v.real(
            kwargs["trial_sharpe_variance"], "trial_sharpe_variance", low=0.0
        ),
        "n_trials": v.real(kwargs["n_trials"], "n_trials", low=1.0),
    }
    per_year = kwargs["periods_per_year"]
    if per_year is not None:
        per_year = v.real(per_year, "periods_per_year", low=1.0)
        out["sharpe"] /= math.sqrt(per_year)
        out["trial_sharpe_variance"] /= per_year
    factor = (
        1.0 - out["skewness"] * out["sharpe"] + (out["kurtosis"] - 1.0) / 4.0 * out["sharpe"] ** 2
    )
    if factor < -1e-12:  # sample moments always give >= 0 (a two-point sample gives 0)
        raise ValueError(
            f"sharpe={out['sharpe']:.6g} per period with skewness={out['skewness']:.6g} and "
            f"kurtosis={out['kurtosis']:.6g} gives a negative Sharpe-ratio variance "
            f"({factor:.6g}); no sample has these moments — check that sharpe is per period "
            "(pass periods_per_year= for annualised values) and kurtosis is non-excess"
        )
    return out


def deflated_sharpe_ratio_from_moments(
    sharpe: float,
    *,
    n_obs: int,
    skewness: float,
    kurtosis: float,
    trial_sharpe_variance: float,
    n_trials: float,
    periods_per_year: float | None,
) -> DsrResult:
    """DSR from summary moments (kurtosis non-excess).

    Units are explicit, because the formula cannot tell them apart: an annualised Sharpe ratio
    passed as a per-period one silently gives a DSR of about 1. ``periods_per_year=None`` states
    that ``sharpe`` and ``trial_sharpe_variance`` are *per period* (the period of the ``n_obs``
    returns); a number states that they are annualised and converts them here
    (``sharpe / sqrt(p)``, ``variance / p``). Moments no sample can have (a negative
    Sharpe-ratio variance factor) are refused with a ``ValueError``. See
    :func:`deflated_sharpe_ratio`. This form reproduces the paper's numerical example.
    """
    a = _deflated_sharpe_ratio_from_moments_iv(
        sharpe=sharpe,
        n_obs=n_obs,
        skewness=skewness,
        kurtosis=kurtosis,
        trial_sharpe_variance=trial_sharpe_variance,
        n_trials=n_trials,
        periods_per_year=periods_per_year,
    )
    sr0 = expected_max_sharpe(a["n_trials"], a["trial_sharpe_variance"])
    n = int(a["n_obs"])
    dsr, z = psr_from_moments(a["sharpe"], sr0, n, a["skewness"], a["kurtosis"])
    return DsrResult(
        dsr=dsr,
        z=z,
        sharpe=a["sharpe"],
        sr0=sr0,
        n_trials=a["n_trials"],
        trial_sharpe_variance=a["trial_sharpe_variance"],
        skewness=a["skewness"],
        kurtosis=a["kurtosis"],
        n_obs=n,
    )


def _deflated_sharpe_ratio_iv(
    returns: Any, trial_sharpes: Any, n_trials: Any
) -> tuple[np.ndarray, np.ndarray, float]:
    x = _returns_iv(returns)
    trials = v.float_array(trial_sharpes, "trial_sharpes", ndim=1)
    if trials.shape[0] < 2:
        raise ValueError(f"trial_sharpes must hold at least 2 Sharpe ratios, got {trials.shape[0]}")
    count = float(trials.shape[0]) if n_trials is None else v.real(n_trials, "n_trials", low=1.0)
    return x, trials, count


def deflated_sharpe_ratio(
    returns: np.ndarray, *, trial_sharpes: np.ndarray, n_trials: float | None = None
) -> DsrResult:
    r"""Deflated Sharpe ratio of the selected strategy's returns.

    Parameters
    ----------
    returns : numpy.ndarray
        1-D per-period returns of the selected strategy (finite, at least 3, not constant).
    trial_sharpes : numpy.ndarray
        1-D per-period Sharpe ratios of all trials tried (at least 2); their ``ddof=1`` variance
        is :math:`V[\widehat{SR}_n]`.
    n_trials : float or None, keyword-only
        Number of independent trials N; ``None`` uses ``len(trial_sharpes)``. Pass
        ``effective_number_of_trials(panel).n_eff`` to account for correlated trials.

    Returns
    -------
    DsrResult

    Notes
    -----
    :math:`DSR = \widehat{PSR}(SR_0)` with :math:`SR_0` from :func:`expected_max_sharpe` (eq. 2 of
    [1]_) and the skewness/kurtosis of the selected returns (see
    :func:`probabilistic_sharpe_ratio`). The paper's example (N = 100, T = 1250, annual SR 2.5,
    annual V = 1/2, skew -3, kurtosis 10) gives SR0 = 0.1132 and DSR = 0.9004; the tests
    reproduce it. There is no library oracle.

    References
    ----------
    .. [1] Bailey, D. H., & Lopez de Prado, M. (2014). The deflated Sharpe ratio: correcting for
       selection bias, backtest overfitting and non-normality. Journal of Portfolio Management,
       40(5), 94-107.
    """
    x, trials, count = _deflated_sharpe_ratio_iv(returns, trial_sharpes, n_trials)
    sharpe, skew, kurt, n = sharpe_moments(x)
    return deflated_sharpe_ratio_from_moments(
        sharpe,
        n_obs=n,
        skewness=skew,
        kurtosis=kurt,
        trial_sharpe_variance=float(np.var(trials, ddof=1)),
        n_trials=count,
        periods_per_year=None,  # sample moments of the returns: per period by construction
    )


def _effective_number_of_trials_iv(returns: Any) -> np.ndarray:
    panel = v.float_array(returns, "returns", ndim=2)
    if panel.shape[0] < 3 or panel.shape[1] < 1:
        raise ValueError(f"returns must be (T, N) with T >= 3 and N >= 1, got shape {panel.shape}")
    flat = np.flatnonzero(~(np.ptp(panel, axis=0) > 0.0))
    if flat.size:
        raise ValueError(f"returns has constant column(s) {flat[:5].tolist()}; no correlation")
    return panel


def effective_number_of_trials(returns: np.ndarray) -> EffectiveTrialsResult:
    r"""Effective number of independent trials from the eigenvalues of their correlation matrix.

    Parameters
    ----------
    returns : numpy.ndarray
        ``(T, N)`` returns of the N trials (finite, ``T >= 3``, no constant column).

    Returns
    -------
    EffectiveTrialsResult

    Notes
    -----
    :math:`N_{eff} = 1 + (N-1)\bigl(1 - \operatorname{Var}(\lambda)/N\bigr)`, where
    :math:`\lambda` are the eigenvalues of the sample correlation matrix and Var uses ``ddof=1``
    (eq. 5 of [1]_), clipped to ``[1, N]``. It is N for uncorrelated trials, 1 for perfectly
    correlated ones, and :math:`2 - \rho^2` for two trials with correlation :math:`\rho`. Bailey &
    Lopez de Prado (2014) leave the choice of N open; this eigenvalue rule is ours.

    References
    ----------
    .. [1] Nyholt, D. R. (2004). A simple correction for multiple testing for single-nucleotide
       polymorphisms in linkage disequilibrium with each other. American Journal of Human
       Genetics, 74(4), 765-769.
    """
    panel = _effective_number_of_trials_iv(returns)
    n = panel.shape[1]
    if n == 1:
        return EffectiveTrialsResult(n_eff=1.0, n_trials=1, eigenvalues=(1.0,))
    corr = np.corrcoef(panel, rowvar=False)
    eig = np.clip(np.linalg.eigvalsh(corr)[::-1], 0.0, None)
    n_eff = 1.0 + (n - 1) * (1.0 - float(np.var(eig, ddof=1)) / n)
    return EffectiveTrialsResult(
        n_eff=min(max(n_eff, 1.0), float(n)),
        n_trials=n,
        eigenvalues=tuple(float(x) for x in eig),
    )
