"""Autocovariances and bootstrap long-run variances of many columns from one batched real FFT.

Every column's autocovariances :math:`\\hat\\gamma_j = n^{-1}\\sum_t e_t e_{t+j}` are the inverse
transform of its power spectrum (zero-padded to at least ``2n - 1`` points, so lags never wrap).
A weighted sum of autocovariances :math:`\\sum_j c_j \\hat\\gamma_j` - which is what a long-run
variance is - equals a weighted sum of the power spectrum with the weights' own transform, so the
long-run variance of every column costs one forward FFT of the data plus one matrix-vector
product; no inverse transform, no per-lag pass over the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy import fft

from crypto_analyzer.stats._threads import run_all

__all__: list[str] = []

_ROWS = 16
"""Columns per pass: a 16 x 2n float block fits in cache for series up to ~10,000 long."""

_GATHER_ROWS = 512
"""Data rows per step of the transposing copy into a pass's buffer."""


@dataclass(frozen=True)
class Spectrum:
    """``rfft`` of each centred column, zero-padded to ``size >= 2n - 1``.

    ``values`` is ``(N, size // 2 + 1)`` complex: one row per column of the data.
    """

    values: np.ndarray
    size: int
    n: int


def spectrum_of(data: np.ndarray) -> Spectrum:
    """Spectrum of each column of the ``(n, N)`` data (rows are time), centred first.

    Columns are transformed ``_ROWS`` at a time through one small zero-padded buffer (one row per
    column, contiguous): the working set stays in cache, where one ``(N, 2n)`` buffer for all
    columns costs a page-faulting allocation and a pass more than the transform itself.
    """
    n, columns = data.shape
    size = _padded_size(n)
    values = np.empty((columns, size // 2 + 1), dtype=np.complex128)

    def transform(first: int) -> None:
        block = _transform_columns(data, first, size)
        values[first : first + block.shape[0]] = block

    # Column blocks are independent (disjoint output rows): run them on the kernel pool.
    run_all(partial(transform, first) for first in range(0, columns, _ROWS))
    return Spectrum(values=values, size=size, n=n)


def _padded_size(n: int) -> int:
    return fft.next_fast_len(2 * n - 1, real=True)


def _transform_columns(data: np.ndarray, first: int, size: int) -> np.ndarray:
    """``rfft`` of the centred, zero-padded columns ``first .. first + _ROWS - 1`` (one per row)."""
    n, columns = data.shape
    count = min(_ROWS, columns - first)
    rows = np.zeros((count, size), dtype=np.float64)
    head = rows[:, :n]
    # The transposing copy a few hundred rows at a time: in one piece numpy walks the 16 columns
    # down all n rows of the data (a page per row), about 4x slower at 5,000 x 1,000.
    columns_view = data[:, first : first + count]
    for start in range(0, n, _GATHER_ROWS):
        stop = start + _GATHER_ROWS
        head[:, start:stop] = columns_view[start:stop].T
    head -= head.mean(axis=1, keepdims=True)
    out: np.ndarray = fft.rfft(rows, axis=1)
    return out


def autocovariances(spectrum: Spectrum, max_lag: int) -> np.ndarray:
    """``(max_lag + 1, N)`` autocovariances (divisor ``n``) at lags ``0 .. max_lag``."""
    values = spectrum.values
    power = values.real**2 + values.imag**2
    raw = fft.irfft(power, n=spectrum.size, axis=1)[:, : max_lag + 1]
    return np.ascontiguousarray(raw.T) / spectrum.n


def weighted_autocovariance_sum(spectrum: Spectrum, weights: np.ndarray) -> np.ndarray:
    """``sum_j weights[j] * gamma_j`` per column for lag weights ``weights[0 .. n-1]``.

    With ``r = irfft(P)`` (so ``gamma_j = r_j / n``) and ``P`` real and symmetric,
    ``sum_j c_j r_j = S^{-1} sum_k P_k Re(C_k)`` where ``C = fft(c, S)``; over the half spectrum
    the interior frequencies count twice.
    """
    size = spectrum.size
    interleaved = _interleaved_kernel(weights, size)
    flat = spectrum.values.view(np.float64)
    out = np.empty(flat.shape[0])
    for first in range(0, flat.shape[0], _ROWS):
        out[first : first + _ROWS] = _power_sum(flat[first : first + _ROWS], interleaved)
    return out / (size * spectrum.n)


def _interleaved_kernel(weights: np.ndarray, size: int) -> np.ndarray:
    """Real transform of the lag weights, interior frequencies doubled, repeated for (re, im)."""
    kernel = fft.rfft(weights, n=size).real
    kernel[1:] *= 2.0
    if size % 2 == 0:
        kernel[-1] *= 0.5
    return np.repeat(kernel, 2)


def _power_sum(block: np.ndarray, interleaved: np.ndarray) -> np.ndarray:
    """``sum_k |X_k|^2 K_k`` per row, as ``(re^2 + im^2) * K_k`` over the interleaved float view
    of ``_ROWS`` transformed columns (the squared block stays in cache)."""
    product: np.ndarray = (block * block) @ interleaved
    return product


def bootstrap_lag_weights(n: int, method: str, block_length: float) -> np.ndarray:
    """Lag weights ``c_0 .. c_{n-1}`` of the variance of ``sqrt(n) * mean`` under the bootstrap.

    Stationary: :math:`c_0 = 1`, :math:`c_i = 2\\kappa_i` with
    :math:`\\kappa_i = (1-i/n)(1-p)^i + (i/n)(1-p)^{n-i}`, ``p = 1/b`` (Politis & Romano 1994,
    used by Hansen 2005, section 2). Circular: Bartlett weights ``1 - i/b`` for ``i < b`` on the
    *circular* autocovariances, which are ``gamma_i + gamma_{n-i}`` of the linear ones, so
    :math:`c_i = 2(\\kappa_i + \\kappa_{n-i})`.
    """
    i = np.arange(1, n, dtype=np.float64)
    if method == "stationary":
        q = 1.0 - 1.0 / block_length
        kappa = (1.0 - i / n) * q**i + (i / n) * q ** (n - i)
        lagged = 2.0 * kappa
    else:
        length = int(block_length)
        kappa = np.where(i < length, 1.0 - i / length, 0.0)
        lagged = 2.0 * (kappa + kappa[::-1])
    return np.concatenate([[1.0], lagged])


def bootstrap_long_run_variance(spectrum: Spectrum, method: str, block_length: float) -> np.ndarray:
    """Variance of ``sqrt(n) * mean`` implied by the block bootstrap, per column."""
    weights = bootstrap_lag_weights(spectrum.n, method, block_length)
    return weighted_autocovariance_sum(spectrum, weights)


def bootstrap_long_run_variance_of(
    data: np.ndarray, method: str, block_length: float, *, parallel: bool = True
) -> np.ndarray:
    """:func:`bootstrap_long_run_variance` of :func:`spectrum_of` ``(data)``, without keeping it.

    Each pool task transforms ``_ROWS`` columns and weights their power spectrum at once, while
    the transform is still in cache - the same operations on the same ``_ROWS``-row blocks as
    the two steps, so the same bits, but no ``(N, n + 1)`` complex spectrum (80 MB at
    5,000 x 1,000) is allocated, written and read back. For callers that need only the
    variances (a given block length: no Politis-White rule to feed). ``parallel=False`` runs the
    blocks in the calling thread (for a caller that is itself a background thread).
    """
    n, columns = data.shape
    size = _padded_size(n)
    interleaved = _interleaved_kernel(bootstrap_lag_weights(n, method, block_length), size)
    out = np.empty(columns)

    def transform(first: int) -> None:
        flat = _transform_columns(data, first, size).view(np.float64)
        out[first : first + flat.shape[0]] = _power_sum(flat, interleaved)

    tasks = (partial(transform, first) for first in range(0, columns, _ROWS))
    if parallel:
        run_all(tasks)
    else:
        for task in tasks:
            task()
    return out / (size * n)
