"""Probabilistic Sharpe ratio and minimum track record length (Bailey & Lopez de Prado 2012)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from crypto_analyzer.stats import _validation as v
from crypto_analyzer.stats._serialize import plain

__all__ = [
    "MinTrackRecordResult",
    "PsrResult",
    "minimum_track_record_length",
    "probabilistic_sharpe_ratio",
    "sharpe_moments",
]

_MIN_OBS = 3


@dataclass(frozen=True)
class PsrResult:
    """Probabilistic Sharpe ratio of one return series.

    Attributes
    ----------
    psr : float
        :math:`\\hat P(SR > SR^*)`.
    z : float
        The standard-normal argument of the PSR.
    sharpe : float
        Per-period Sharpe ratio ``mean / std(ddof=1)`` (not annualised).
    benchmark_sharpe : float
        :math:`SR^*`, per period.
    skewness, kurtosis : float
        Sample skewness and (non-excess) kurtosis, population moments (normal: 0 and 3).
    n_obs : int
    """

    psr: float
    z: float
    sharpe: float
    benchmark_sharpe: float
    skewness: float
    kurtosis: float
    n_obs: int

    def to_dict(self) -> dict[str, Any]:
        """Plain, canonical-JSON-compatible fields."""
        return plain(self)


@dataclass(frozen=True)
class MinTrackRecordResult:
    """Minimum track record length (in observations) for a target confidence.

    ``min_trl`` is ``None`` (with ``reason``) when the Sharpe ratio does not exceed the benchmark,
    because no track record length can then reach the confidence.
    """

    min_trl: float | None
    sharpe: float
    benchmark_sharpe: float
    confidence: float
    skewness: float
    kurtosis: float
    n_obs: int
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain, canonical-JSON-compatible fields."""
        return plain(self)


def sharpe_moments(returns: np.ndarray) -> tuple[float, float, float, int]:
    """Per-period Sharpe (``ddof=1``), skewness and non-excess kurtosis (population moments).

    ``returns`` must already be a validated finite 1-D float array with non-zero variance.
    """
    n = returns.shape[0]
    e = returns - returns.mean()
    m2 = float(np.mean(e**2))
    skew = float(np.mean(e**3)) / m2**1.5
    kurt = float(np.mean(e**4)) / m2**2
    sharpe = float(returns.mean()) / math.sqrt(m2 * n / (n - 1))
    return sharpe, skew, kurt, n


def _returns_iv(returns: Any) -> np.ndarray:
    x = v.float_array(returns, "returns", ndim=1)
    if x.shape[0] < _MIN_OBS:
        raise ValueError(f"returns must have at least {_MIN_OBS} observations, got {x.shape[0]}")
    if not np.ptp(x) > 0.0:
        raise ValueError("returns is constant; its Sharpe ratio is undefined")
    return x


def sharpe_variance_factor(sharpe: float, skewness: float, kurtosis: float) -> float:
    """:math:`1 - \\gamma_3 SR + (\\gamma_4 - 1) SR^2 / 4` (non-negative for sample moments)."""
    value = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    return max(value, np.finfo(np.float64).tiny)


def psr_from_moments(
    sharpe: float, benchmark_sharpe: float, n_obs: int, skewness: float, kurtosis: float
) -> tuple[float, float]:
    """``(psr, z)`` from moments (eq. of [1] in :func:`probabilistic_sharpe_ratio`)."""
    z = (
        (sharpe - benchmark_sharpe)
        * math.sqrt(n_obs - 1)
        / math.sqrt(sharpe_variance_factor(sharpe, skewness, kurtosis))
    )
    return float(special.ndtr(z)), z


def _probabilistic_sharpe_ratio_iv(returns: Any, benchmark_sharpe: Any) -> tuple[np.ndarray, float]:
    return _returns_iv(returns), v.real(benchmark_sharpe, "benchmark_sharpe")


def probabilistic_sharpe_ratio(returns: np.ndarray, *, benchmark_sharpe: float = 0.0) -> PsrResult:
    r"""Probability that the true Sharpe ratio exceeds ``benchmark_sharpe``.

    Parameters
    ----------
    returns : numpy.ndarray
        1-D per-period (excess) returns, finite, at least 3, not constant.
    benchmark_sharpe : float, keyword-only
        :math:`SR^*` in the same (per-period, non-annualised) units.

    Returns
    -------
    PsrResult

    Notes
    -----
    .. math::

       \widehat{PSR}(SR^*) = \Phi\Bigl(\frac{(\widehat{SR} - SR^*)\sqrt{n-1}}
       {\sqrt{1 - \hat\gamma_3\widehat{SR} + \frac{\hat\gamma_4 - 1}{4}\widehat{SR}^2}}\Bigr)

    (eq. 11 of [1]_), with :math:`\hat\gamma_3, \hat\gamma_4` the sample skewness and non-excess
    kurtosis from population (biased) central moments, and :math:`\widehat{SR}` using the
    ``ddof=1`` standard deviation. No library oracle exists; the tests check the published DSR
    example (which runs through this formula) and the exact PSR/MinTRL identity.

    References
    ----------
    .. [1] Bailey, D. H., & Lopez de Prado, M. (2012). The Sharpe ratio efficient frontier. Journal
       of Risk, 15(2), 3-44.
    """
    x, sr_star = _probabilistic_sharpe_ratio_iv(returns, benchmark_sharpe)
    sharpe, skew, kurt, n = sharpe_moments(x)
    psr, z = psr_from_moments(sharpe, sr_star, n, skew, kurt)
    return PsrResult(
        psr=psr,
        z=z,
        sharpe=sharpe,
        benchmark_sharpe=sr_star,
        skewness=skew,
        kurtosis=kurt,
        n_obs=n,
    )


def _minimum_track_record_length_iv(
    returns: Any, benchmark_sharpe: Any, confidence: Any
) -> tuple[np.ndarray, float, float]:
    return (
        _returns_iv(returns),
        v.real(benchmark_sharpe, "benchmark_sharpe"),
        v.probability_level(confidence, "confidence"),
    )


def minimum_track_record_length(
    returns: np.ndarray, *, benchmark_sharpe: float = 0.0, confidence: float = 0.95
) -> MinTrackRecordResult:
    r"""Observations needed for :math:`\widehat{PSR}(SR^*)` to reach ``confidence``.

    Parameters
    ----------
    returns : numpy.ndarray
        1-D per-period returns, finite, at least 3, not constant.
    benchmark_sharpe : float, keyword-only
        :math:`SR^*`, per period.
    confidence : float, keyword-only
        Target probability in (0, 1), e.g. 0.95.

    Returns
    -------
    MinTrackRecordResult

    Notes
    -----
    .. math::

       MinTRL = 1 + \Bigl(1 - \hat\gamma_3\widehat{SR}
       + \frac{\hat\gamma_4-1}{4}\widehat{SR}^2\Bigr)\Bigl(\frac{z_{c}}{\widehat{SR} - SR^*}\Bigr)^2

    with :math:`z_c = \Phi^{-1}(c)` (eq. 13 of [1]_): by construction PSR evaluated with
    ``n = MinTRL`` equals ``confidence`` exactly, which the tests check.

    References
    ----------
    .. [1] Bailey, D. H., & Lopez de Prado, M. (2012). The Sharpe ratio efficient frontier. Journal
       of Risk, 15(2), 3-44.
    """
    x, sr_star, level = _minimum_track_record_length_iv(returns, benchmark_sharpe, confidence)
    sharpe, skew, kurt, n = sharpe_moments(x)
    common: dict[str, Any] = {
        "sharpe": sharpe,
        "benchmark_sharpe": sr_star,
        "confidence": level,
        "skewness": skew,
        "kurtosis": kurt,
        "n_obs": n,
    }
    if sharpe <= sr_star:
        reason = f"sharpe={sharpe:.6g} does not exceed benchmark_sharpe={sr_star:.6g}"
        return MinTrackRecordResult(min_trl=None, reason=reason, **common)
    z_c = float(special.ndtri(level))
    factor = sharpe_variance_factor(sharpe, skew, kurt)
    min_trl = 1.0 + factor * (z_c / (sharpe - sr_star)) ** 2
    return MinTrackRecordResult(min_trl=min_trl, reason=None, **common)
