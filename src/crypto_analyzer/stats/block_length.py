"""Politis-White automatic block length for the stationary and circular block bootstraps."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from crypto_analyzer.stats import _validation as v
from crypto_analyzer.stats._serialize import frozen_array, plain
from crypto_analyzer.stats._spectral import Spectrum, autocovariances, spectrum_of

__all__ = ["BlockLengthResult", "optimal_block_length"]

_MIN_OBS = 9
_BAND_CONSTANT = 2.0


@dataclass(frozen=True)
class BlockLengthResult:
    """Estimated optimal block lengths, one entry per column.

    Attributes
    ----------
    stationary : numpy.ndarray
        Optimal mean block length for the stationary bootstrap (real, not rounded).
    circular : numpy.ndarray
        Optimal block length for the circular block bootstrap (real, not rounded).
    bandwidth : numpy.ndarray
        Flat-top lag-window bandwidth ``M = min(2 * m_hat, m_max)`` used per column (int).
    n_obs : int
        Series length.
    """

    stationary: np.ndarray
    circular: np.ndarray
    bandwidth: np.ndarray
    n_obs: int

    def to_dict(self) -> dict[str, Any]:
        """Plain, canonical-JSON-compatible fields."""
        return plain(self)


def _optimal_block_length_iv(x: Any) -> np.ndarray:
    data = v.float_array(x, "x", ndim=(1, 2))
    if data.ndim == 1:
        data = data[:, None]
    if data.shape[0] < _MIN_OBS:
        raise ValueError(f"x must have at least {_MIN_OBS} observations, got {data.shape[0]}")
    if data.shape[1] < 1:
        raise ValueError("x must have at least one column")
    return data


def _flat_top(u: np.ndarray) -> np.ndarray:
    """Trapezoidal flat-top lag window: 1 on |u| <= 1/2, 2(1 - |u|) on (1/2, 1], 0 beyond."""
    a = np.abs(u)
    return np.where(a <= 0.5, 1.0, np.where(a <= 1.0, 2.0 * (1.0 - a), 0.0))


def optimal_block_length(x: np.ndarray) -> BlockLengthResult:
    r"""Politis-White (2004) automatic block length with the Patton-Politis-White correction.

    Parameters
    ----------
    x : numpy.ndarray
        1-D series or 2-D ``(n, k)`` array treated column by column; finite, ``n >= 9``.

    Returns
    -------
    BlockLengthResult
        Stationary and circular optimal block lengths per column.

    Notes
    -----
    With autocovariances :math:`\hat\gamma_k = n^{-1}\sum_{t=k+1}^{n}(x_t-\bar x)(x_{t-k}-\bar x)`,
    autocorrelations :math:`\hat\rho_k`, :math:`K_n = \max(5, \lceil\sqrt{\log_{10} n}\rceil)` and
    :math:`m_{max} = \lceil\sqrt n\rceil + K_n`, :math:`\hat m - 1` is the smallest lag after which
    :math:`K_n` consecutive autocorrelations all lie inside :math:`\pm 2\sqrt{\log_{10}(n)/n}`
    (section 3.2 of [1]_, counted from 1 as in Patton's code); when no such run exists, the largest
    significant lag is used. ``M = 0`` gives block length 1. With
    :math:`M = \min(2\hat m, m_{max})` and the flat-top window :math:`\lambda`,

    .. math::

       \hat G = \sum_{|k|\le M}\lambda(k/M)|k|\hat\gamma_k,\quad
       \hat\sigma^2 = \sum_{|k|\le M}\lambda(k/M)\hat\gamma_k,\quad
       b = \Bigl(\frac{2\hat G^2}{D}\Bigr)^{1/3} n^{1/3},

    with :math:`D_{SB} = 2\hat\sigma^4` and :math:`D_{CB} = \tfrac43\hat\sigma^4` (eq. 9-10 of
    [2]_), capped at :math:`\lceil\min(3\sqrt n, n/3)\rceil`. All autocovariances use the full
    sample length, as ``arch.bootstrap.optimal_block_length`` (the test oracle) does; Patton's
    MATLAB code differs there, so values may differ from it in the second decimal.

    References
    ----------
    .. [1] Politis, D. N., & White, H. (2004). Automatic block-length selection for the dependent
       bootstrap. Econometric Reviews, 23(1), 53-70.
    .. [2] Patton, A., Politis, D. N., & White, H. (2009). Correction to "Automatic block-length
       selection for the dependent bootstrap". Econometric Reviews, 28(4), 372-375.
    """
    data = _optimal_block_length_iv(x)
    return _from_spectrum(spectrum_of(data))


def _from_spectrum(spectrum: Spectrum) -> BlockLengthResult:
    """Block lengths from the columns' spectrum (autocovariances by one batched inverse FFT)."""
    n = spectrum.n
    k = spectrum.values.shape[0]
    k_n = max(5, math.ceil(math.sqrt(math.log10(n))))
    m_max = min(math.ceil(math.sqrt(n)) + k_n, n - 1)
    band = _BAND_CONSTANT * math.sqrt(math.log10(n) / n)
    b_max = math.ceil(min(3.0 * math.sqrt(n), n / 3.0))
    gamma = autocovariances(spectrum, m_max)
    stationary = np.empty(k)
    circular = np.empty(k)
    bandwidth = np.empty(k, dtype=np.int64)
    for col in range(k):
        g = gamma[:, col]
        if g[0] <= 0.0:
            stationary[col] = circular[col] = 1.0
            bandwidth[col] = 0
            continue
        rho = np.abs(g[1:] / g[0])
        m_hat = _first_quiet_lag(rho < band, k_n)
        m = min(2 * m_hat, m_max)
        lags = np.arange(1, m + 1)
        weights = _flat_top(lags / m) if m > 0 else np.empty(0)
        g_hat = 2.0 * float(np.sum(weights * lags * g[1 : m + 1]))
        sigma2 = float(g[0] + 2.0 * np.sum(weights * g[1 : m + 1]))
        bandwidth[col] = m
        if m == 0:
            stationary[col] = circular[col] = 1.0
            continue
        if sigma2 <= 0.0:
            stationary[col] = circular[col] = float(b_max)
            continue
        base = (g_hat**2 / sigma2**2) ** (1.0 / 3.0) * n ** (1.0 / 3.0)
        stationary[col] = min(base * (2.0 / 2.0) ** (1.0 / 3.0), b_max)
        circular[col] = min(base * (2.0 / (4.0 / 3.0)) ** (1.0 / 3.0), b_max)
    return BlockLengthResult(
        stationary=frozen_array(stationary),
        circular=frozen_array(circular),
        bandwidth=frozen_array(bandwidth, np.int64),
        n_obs=n,
    )


def _first_quiet_lag(quiet: np.ndarray, run: int) -> int:
    """``m_hat``: 1 + the first offset ``m`` with ``quiet[m : m + run]`` all True (lags m+1..m+run).

    ``quiet[j]`` refers to lag ``j + 1``. The count starts at 1, as in Patton's reference code;
    when no quiet run exists the largest significant lag is returned.
    """
    windows = len(quiet) - run + 1
    for m in range(max(windows, 0)):
        if quiet[m : m + run].all():
            return m + 1
    loud = np.flatnonzero(~quiet)
    return int(loud[-1]) + 1 if loud.size else 0


def automatic_block_length(
    data: np.ndarray, method: str, spectrum: Spectrum | None = None
) -> float:
    """Mean over columns of the Politis-White length for ``method``, at least 1 (private helper).

    ``spectrum`` (of the same data) lets a caller that already transformed the data reuse it.
    """
    result = _from_spectrum(spectrum if spectrum is not None else spectrum_of(data))
    values = result.stationary if method == "stationary" else result.circular
    return max(1.0, float(np.mean(values)))
