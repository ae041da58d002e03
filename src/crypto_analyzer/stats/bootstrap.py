"""Stationary and circular block bootstrap: vectorised index, count and mean generation.

The index streams are a pure function of ``(n_obs, method, block_length, reps, seed)``: draws are
produced in fixed-size chunks from one PCG64 generator built by :func:`core.seeding.make_rng`, so a
caller that needs only bootstrap means (the multiple-comparison tests) and one that asks for the
indices themselves see exactly the same resamples.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from crypto_analyzer.core.hashing import sha256_bytes
from crypto_analyzer.core.seeding import make_rng
from crypto_analyzer.stats import _validation as v
from crypto_analyzer.stats._block_draws import (
    PREFIX_MIN_BLOCK,
    all_prefix_block_sums,
    block_chunks,
    block_counts,
    block_indices,
    prefix_sums,
)
from crypto_analyzer.stats._serialize import frozen_array, plain

__all__ = [
    "BOOTSTRAP_METHODS",
    "BootstrapIndices",
    "bootstrap_indices",
]

BOOTSTRAP_METHODS = ("circular", "stationary")
"""Supported block bootstraps."""


@dataclass(frozen=True)
class BootstrapIndices:
    """Resampled time indices, one row per bootstrap draw.

    Attributes
    ----------
    indices : numpy.ndarray
        Read-only ``(reps, n_obs)`` int64 array of positions in ``0 .. n_obs - 1``.
    method : str
        ``"stationary"`` (Politis-Romano, geometric block lengths) or ``"circular"``.
    block_length : float
        Mean block length (stationary) or fixed block length (circular).
    reps : int
        Number of draws.
    n_obs : int
        Length of the resampled series.
    seed : int
        Seed of the PCG64 generator that produced the draws.
    """

    indices: np.ndarray
    method: str
    block_length: float
    reps: int
    n_obs: int
    seed: int

    def counts(self) -> np.ndarray:
        """``(reps, n_obs)`` float64 matrix: how often each time point appears in each draw."""
        return _counts(self.indices, self.n_obs)

    def to_dict(self) -> dict[str, Any]:
        """Settings plus the SHA-256 of the index bytes (the indices themselves are too large)."""
        return {
            "block_length": plain(self.block_length),
            "indices_sha256": sha256_bytes(np.ascontiguousarray(self.indices).tobytes()),
            "method": self.method,
            "n_obs": self.n_obs,
            "reps": self.reps,
            "seed": self.seed,
        }


def _bootstrap_indices_iv(
    n_obs: Any, method: Any, block_length: Any, reps: Any, seed: Any
) -> tuple[int, str, float, int, int]:
    n = v.integer(n_obs, "n_obs", minimum=1)
    kind = v.choice(method, "method", BOOTSTRAP_METHODS)
    reps_value = v.integer(reps, "reps", minimum=1)
    if kind == "circular":
        length = float(v.integer(block_length, "block_length", minimum=1, maximum=n))
    else:
        length = v.real(block_length, "block_length", low=1.0, high=float(n))
    return n, kind, length, reps_value, v.seed_value(seed)


def bootstrap_indices(
    n_obs: int, *, method: str, block_length: float, reps: int, seed: int
) -> BootstrapIndices:
    """Draw block-bootstrap time indices from a seeded generator.

    Parameters
    ----------
    n_obs : int
        Series length ``n >= 1``.
    method : {"stationary", "circular"}, keyword-only
        Stationary bootstrap of [1]_ (block lengths geometric with mean ``block_length``, start
        points uniform, wrapping around the end) or circular block bootstrap of [2]_ (fixed block
        length, wrapping, the last block truncated to ``n``).
    block_length : float, keyword-only
        Mean block length in ``[1, n]`` (stationary; any real) or block length (circular; int).
    reps : int, keyword-only
        Number of draws ``>= 1``.
    seed : int, keyword-only
        Non-negative seed; the generator is ``core.seeding.make_rng(seed)``.

    Returns
    -------
    BootstrapIndices
        The ``(reps, n)`` index matrix and the settings, including ``seed``.

    Notes
    -----
    Stationary: block lengths are i.i.d. geometric with mean ``b`` and starts i.i.d. uniform on
    ``0 .. n-1``; the blocks (wrapping around the end) are concatenated and cut at ``n``. This is
    the distribution of eq. (1)-(2) of [1]_ (a new block at each position with probability
    ``1/b``), drawn as about ``n / b`` (start, length) pairs per resample instead of ``2 n``
    numbers (seed scheme version 2; version 1 drew per position). Circular: ``ceil(n / b)``
    uniform starts, the last block cut. arch draws the same distributions in a Python loop over
    draws, so streams differ from arch for the same seed; only the distribution is shared.

    References
    ----------
    .. [1] Politis, D. N., & Romano, J. P. (1994). The stationary bootstrap. Journal of the American
       Statistical Association, 89(428), 1303-1313.
    .. [2] Politis, D. N., & Romano, J. P. (1992). A circular block-resampling procedure for
       stationary data. In Exploring the Limits of Bootstrap, 263-270. Wiley.
    """
    n, kind, length, reps_value, seed_int = _bootstrap_indices_iv(
        n_obs, method, block_length, reps, seed
    )
    rng = make_rng(seed_int)
    rows = list(_index_chunks(n, kind, length, reps_value, rng))
    return BootstrapIndices(
        indices=frozen_array(np.concatenate(rows, axis=0), np.int64),
        method=kind,
        block_length=length,
        reps=reps_value,
        n_obs=n,
        seed=seed_int,
    )


def _index_chunks(
    n: int, method: str, block_length: float, reps: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """Yield ``(chunk, n)`` index blocks; the concatenation is the full ``(reps, n)`` draw."""
    for starts, lengths in block_chunks(n, method, block_length, reps, rng):
        yield block_indices(starts, lengths, n)


def _counts(indices: np.ndarray, n: int) -> np.ndarray:
    """Count matrix of an index block via one ``bincount`` over row-offset indices."""
    rows = indices.shape[0]
    flat = (indices + (np.arange(rows, dtype=np.int64) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=rows * n).reshape(rows, n).astype(np.float64)


def bootstrap_deviations(
    data: np.ndarray,
    method: str,
    block_length: float,
    reps: int,
    rng: np.random.Generator,
    mean: np.ndarray | None = None,
) -> np.ndarray:
    """``(reps, N)`` bootstrap means minus the sample means of the ``(n, N)`` columns.

    Long blocks (``block_length >= PREFIX_MIN_BLOCK``): block sums from prefix sums of the centred
    data (a sparse product, ~``2 n / b`` rows per draw). Short blocks: count matrix times the
    centred data (BLAS). Working on centred data keeps the deviations accurate even when the
    columns' means are large. ``mean`` is ``data.mean(axis=0)`` when the caller already has it.
    Private to ``stats`` (validation happens in the public callers).
    """
    n = data.shape[0]
    if mean is None:
        mean = data.mean(axis=0)
    out = np.empty((reps, data.shape[1]), dtype=np.float64)
    chunks = block_chunks(n, method, block_length, reps, rng)
    if block_length >= PREFIX_MIN_BLOCK:
        all_prefix_block_sums(chunks, prefix_sums(data, mean), n, out)
    else:
        centred = data - mean
        row = 0
        for starts, lengths in chunks:
            out[row : row + starts.shape[0]] = block_counts(starts, lengths, n) @ centred
            row += starts.shape[0]
    out /= n
    return out


def bootstrap_means(
    data: np.ndarray, method: str, block_length: float, reps: int, rng: np.random.Generator
) -> np.ndarray:
    """``(reps, N)`` bootstrap means of the ``(n, N)`` columns (see :func:`bootstrap_deviations`).

    Private to ``stats`` (validation happens in the public callers).
    """
    return data.mean(axis=0) + bootstrap_deviations(data, method, block_length, reps, rng)
