"""Probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from crypto_analyzer.core.seeding import make_rng
from crypto_analyzer.stats import _validation as v
from crypto_analyzer.stats._serialize import frozen_array, plain

__all__ = ["PBO_METRICS", "PboResult", "pbo_cscv"]

PBO_METRICS = ("mean", "sharpe")
_FULL_ENUMERATION_MAX_BLOCKS = 16
_CHUNK_NUMBERS = 65_536


@dataclass(frozen=True)
class PboResult:
    """CSCV estimate of the probability of backtest overfitting.

    Attributes
    ----------
    pbo : float
        Share of splits whose in-sample winner ranks at or below the out-of-sample median
        (logit <= 0).
    logits : numpy.ndarray
        Read-only logit :math:`\\lambda_c` of the winner's relative OOS rank, one per split.
    degradation_slope, degradation_intercept : float
        OLS fit of the winner's OOS metric on its IS metric across splits.
    probability_of_loss : float
        Share of splits where the winner's OOS metric is below 0.
    n_blocks : int
        S, the number of contiguous row blocks.
    n_splits : int
        Splits evaluated.
    enumeration : str
        ``"full"`` (all C(S, S/2) splits) or ``"sampled"``.
    metric : str
        ``"mean"`` or ``"sharpe"`` (per period, ``ddof=1``).
    n_obs, n_strategies : int
    seed : int or None
        Seed of the split sampler; ``None`` under full enumeration (no randomness).
    """

    pbo: float
    logits: np.ndarray
    degradation_slope: float
    degradation_intercept: float
    probability_of_loss: float
    n_blocks: int
    n_splits: int
    enumeration: str
    metric: str
    n_obs: int
    n_strategies: int
    seed: int | None

    def to_dict(self) -> dict[str, Any]:
        """Plain, canonical-JSON-compatible fields (logits as a list)."""
        return plain(self)


def _pbo_cscv_iv(
    returns: Any, n_blocks: Any, metric: Any, max_splits: Any, seed: Any
) -> tuple[np.ndarray, int, str, int, int | None]:
    data = v.float_array(returns, "returns", ndim=2)
    t, n = data.shape
    if n < 2:
        raise ValueError(f"returns must have at least 2 strategies (columns), got {n}")
    s = v.integer(n_blocks, "n_blocks", minimum=2)
    if s % 2:
        raise ValueError(f"n_blocks must be even, got {s}")
    kind = v.choice(metric, "metric", PBO_METRICS)
    per_block = 2 if kind == "sharpe" else 1
    if t < s * per_block:
        raise ValueError(
            f"returns has {t} rows; n_blocks={s} with metric={kind!r} needs at least "
            f"{s * per_block} rows"
        )
    if kind == "sharpe":
        flat = np.flatnonzero(~(np.ptp(data, axis=0) > 0.0))
        if flat.size:
            raise ValueError(
                f"returns has constant column(s) {flat[:5].tolist()}; Sharpe undefined"
            )
    splits = v.integer(max_splits, "max_splits", minimum=1)
    seed_int = None
    if s > _FULL_ENUMERATION_MAX_BLOCKS:
        if seed is None:
            raise ValueError(
                f"n_blocks={s} > {_FULL_ENUMERATION_MAX_BLOCKS} samples splits at random; pass seed"
            )
        seed_int = v.seed_value(seed)
    elif seed is not None:
        v.seed_value(seed)
    return data, s, kind, splits, seed_int


def _splits(s: int, max_splits: int, seed: int | None) -> tuple[np.ndarray, str]:
    """``(C, S/2)`` in-sample block numbers per split (ascending): all C(S, S/2), or a seeded
    sample."""
    half = s // 2
    if seed is None:
        combos = np.array(list(itertools.combinations(range(s), half)), dtype=np.int64)
        return combos, "full"
    rng = make_rng(seed)
    keys = rng.random((max_splits, s))
    chosen = np.sort(np.argsort(keys, axis=1)[:, :half], axis=1)
    return chosen, "sampled"


def _chunk_rows(n: int) -> int:
    """Splits per chunk: each chunk's ``(rows, N)`` work arrays hold about 65,536 numbers
    (512 KB), so the dozen alive at once stay in cache and peak memory stays a small constant
    above the input, however many splits there are. Measured at S=16, T=10,000, N=1,000: chunks
    of ~64 splits run 4x faster than chunks of ~600 (cache misses), and 1,000x less memory than
    all 12,870 splits at once."""
    return max(1, _CHUNK_NUMBERS // n)


@dataclass(frozen=True)
class _BlockStats:
    """Per-block row counts, sums and sums of squares of the column-demeaned data."""

    counts: np.ndarray
    sums: np.ndarray
    squares: np.ndarray
    column_mean: np.ndarray
    t: int


def _block_stats(data: np.ndarray, s: int) -> _BlockStats:
    """One pass over the rows, one block at a time (no demeaned copy of the whole input)."""
    t, n = data.shape
    column_mean = data.mean(axis=0)
    sizes = [len(b) for b in np.array_split(np.arange(t), s)]
    edges = np.concatenate([[0], np.cumsum(sizes)])
    sums = np.empty((s, n))
    squares = np.empty((s, n))
    for k in range(s):
        block = data[edges[k] : edges[k + 1]] - column_mean
        sums[k] = block.sum(axis=0)
        block *= block
        squares[k] = block.sum(axis=0)
    return _BlockStats(np.array(sizes, dtype=np.float64), sums, squares, column_mean, t)


def _split_totals(values: np.ndarray, combos: np.ndarray) -> np.ndarray:
    """``values[combo]`` summed per split in block order: elementwise adds in a fixed order, so a
    split's total never depends on how the splits are chunked."""
    total = values[combos[:, 0]].copy()
    for j in range(1, combos.shape[1]):
        total += values[combos[:, j]]
    return total


def _evaluate_chunk(
    stats: _BlockStats, combos: np.ndarray, kind: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logits, winner IS metric and winner OOS metric of a chunk of splits."""
    n = stats.sums.shape[1]
    is_counts = _split_totals(stats.counts, combos)
    oos_counts = stats.t - is_counts
    is_sums = _split_totals(stats.sums, combos)
    oos_sums = stats.sums.sum(axis=0) - is_sums
    if kind == "sharpe":
        is_squares = _split_totals(stats.squares, combos)
        oos_squares = stats.squares.sum(axis=0) - is_squares
        is_metric = _sharpe(is_sums, is_squares, is_counts, stats.column_mean)
        del is_squares
        oos_metric = _sharpe(oos_sums, oos_squares, oos_counts, stats.column_mean)
        del oos_squares
    else:
        is_metric = is_sums / is_counts[:, None] + stats.column_mean
        oos_metric = oos_sums / oos_counts[:, None] + stats.column_mean
    del is_sums, oos_sums
    rows = np.arange(combos.shape[0])
    winner = np.argmax(is_metric, axis=1)
    winner_oos = oos_metric[rows, winner]
    winner_is = is_metric[rows, winner]
    del is_metric
    below = (oos_metric < winner_oos[:, None]).sum(axis=1)
    equal = (oos_metric == winner_oos[:, None]).sum(axis=1)
    omega = (below + (equal + 1.0) / 2.0) / (n + 1.0)
    return np.log(omega / (1.0 - omega)), winner_is, winner_oos


def pbo_cscv(
    returns: np.ndarray,
    *,
    n_blocks: int = 16,
    metric: str = "sharpe",
    max_splits: int = 12870,
    seed: int | None = None,
) -> PboResult:
    r"""Probability of backtest overfitting (PBO) by CSCV.

    Parameters
    ----------
    returns : numpy.ndarray
        ``(T, N)`` per-period performance of N strategy configurations (finite; NaN refused).
    n_blocks : int, keyword-only
        S, even, ``>= 2``: rows are cut into S contiguous blocks of (nearly) equal size
        (``numpy.array_split``; the first ``T mod S`` blocks get one extra row).
    metric : {"sharpe", "mean"}, keyword-only
        Performance statistic ranked in and out of sample.
    max_splits : int, keyword-only
        Number of random splits when ``S > 16``; ignored under full enumeration.
    seed : int or None, keyword-only
        Required when ``S > 16`` (random split sampling, recorded); otherwise unused.

    Returns
    -------
    PboResult

    Notes
    -----
    For each split c of the S blocks into halves (IS, OOS) the configuration with the best IS
    metric is selected, its OOS relative rank is :math:`\bar\omega_c = r_c/(N+1)` (average rank
    for ties, 1 = worst) and :math:`\lambda_c = \log(\bar\omega_c/(1-\bar\omega_c))`;
    :math:`PBO = \#\{c: \lambda_c \le 0\}/C` (section 2.2 of [1]_). The degradation line regresses
    the winner's OOS metric on its IS metric, and the probability of loss is the share of splits
    where the winner's OOS metric is negative (section 2.3 of [1]_).

    Per-block sums and sums of squares (of the column-demeaned data, one block at a time) are
    combined per split by adding the S/2 in-sample blocks' rows, so S = 16 costs a few adds per
    split and strategy instead of 12,870 passes over the data. The splits are processed in
    cache-sized chunks, so peak memory is the validated copy of the input plus a few megabytes;
    a split's numbers never depend on the chunking (fixed-order adds, no BLAS reductions). No
    library oracle is used: the tests check a hand-worked S = 4 case and the behaviour on planted
    and pure-noise families.

    References
    ----------
    .. [1] Bailey, D. H., Borwein, J. M., Lopez de Prado, M., & Zhu, Q. J. (2017). The probability
       of backtest overfitting. Journal of Computational Finance, 20(4), 39-69.
    """
    data, s, kind, max_count, seed_int = _pbo_cscv_iv(returns, n_blocks, metric, max_splits, seed)
    return _pbo_from_data(data, s, kind, max_count, seed_int, None)


def _pbo_from_data(
    data: np.ndarray, s: int, kind: str, max_count: int, seed_int: int | None, chunk: int | None
) -> PboResult:
    """CSCV on validated data, the splits processed ``chunk`` at a time (None: by memory)."""
    t, n = data.shape
    stats = _block_stats(data, s)
    combos, enumeration = _splits(s, max_count, seed_int)
    step = chunk if chunk is not None else _chunk_rows(n)
    parts = [
        _evaluate_chunk(stats, combos[start : start + step], kind)
        for start in range(0, combos.shape[0], step)
    ]
    logits = np.concatenate([part[0] for part in parts])
    winner_is = np.concatenate([part[1] for part in parts])
    winner_oos = np.concatenate([part[2] for part in parts])
    slope, intercept = _ols_line(winner_is, winner_oos)
    return PboResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=frozen_array(logits),
        degradation_slope=slope,
        degradation_intercept=intercept,
        probability_of_loss=float(np.mean(winner_oos < 0.0)),
        n_blocks=s,
        n_splits=int(combos.shape[0]),
        enumeration=enumeration,
        metric=kind,
        n_obs=t,
        n_strategies=n,
        seed=seed_int,
    )


def _sharpe(
    sums: np.ndarray, squares: np.ndarray, counts: np.ndarray, column_mean: np.ndarray
) -> np.ndarray:
    """Sharpe from centred sums: variance is shift-invariant, the mean gets the shift back."""
    scale = counts[:, None]
    mean = sums / scale
    var = mean * mean
    var *= scale
    np.subtract(squares, var, out=var)
    var /= scale - 1.0
    np.maximum(var, np.finfo(np.float64).tiny, out=var)
    np.sqrt(var, out=var)
    mean += column_mean
    mean /= var
    return mean


def _ols_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    xc = x - x.mean()
    denom = float(xc @ xc)
    slope = float(xc @ (y - y.mean())) / denom if denom > 0.0 else math.nan
    intercept = float(y.mean() - slope * x.mean()) if denom > 0.0 else math.nan
    return slope, intercept
