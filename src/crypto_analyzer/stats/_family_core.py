"""Private machinery shared by Reality Check, SPA and StepM: validation, one bootstrap draw, nulls.

Conventions: ``d`` is a ``(T, N)`` array of performance differentials against a benchmark (higher is
better; for losses use ``benchmark_loss - model_loss``). Every null hypothesis is ``E[d_k] <= 0``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from crypto_analyzer.core.seeding import make_rng
from crypto_analyzer.stats import _validation as v
from crypto_analyzer.stats._spectral import (
    bootstrap_long_run_variance,
    bootstrap_long_run_variance_of,
    spectrum_of,
)
from crypto_analyzer.stats._threads import run_all
from crypto_analyzer.stats.block_length import automatic_block_length
from crypto_analyzer.stats.bootstrap import BOOTSTRAP_METHODS, bootstrap_deviations

__all__: list[str] = []

DEFAULT_MIN_OBS = 30
RECENTRINGS = ("consistent", "lower", "upper")


@dataclass(frozen=True)
class FamilySettings:
    """Validated, normalised arguments of a family test."""

    data: np.ndarray
    hypothesis_ids: tuple[str, ...]
    n_obs_total: int
    n_obs: int
    reps: int
    block_length: float | None
    bootstrap: str
    seed: int
    min_obs: int
    studentize: bool
    skip_reason: str | None


@dataclass(frozen=True)
class NullDraw:
    """One shared bootstrap draw: sample means, scales and centred bootstrap means.

    ``centred[b, k] = sqrt(n) * (mean*_bk - mean_k)``; ``scale`` is the long-run standard deviation
    (studentized) or ones; ``variance`` is always the long-run variance (for the consistent rule).
    """

    n: int
    mean: np.ndarray
    variance: np.ndarray
    scale: np.ndarray
    centred: np.ndarray
    block_length: float
    block_length_rule: str


def family_iv(
    d: Any,
    *,
    reps: Any,
    block_length: Any,
    bootstrap: Any,
    seed: Any,
    hypothesis_ids: Any,
    min_obs: Any,
    studentize: Any,
) -> FamilySettings:
    """Validate a family-test call. NaN marks a missing value; rows with any NaN are dropped.

    The data are only read from here on (every kernel writes into its own buffers), so a float64
    C-contiguous ``d`` is used without a copy.
    """
    data, finite = v.checked_float_array(d, "d", ndim=(1, 2), allow_nan=True, copy=False)
    if data.ndim == 1:
        data = data[:, None]
    n_total, k = data.shape
    if k < 1:
        raise ValueError("d must have at least one column (hypothesis)")
    ids = v.hypothesis_ids(hypothesis_ids, k)
    reps_value = v.integer(reps, "reps", minimum=1)
    kind = v.choice(bootstrap, "bootstrap", BOOTSTRAP_METHODS)
    seed_int = v.seed_value(seed)
    min_obs_value = v.integer(min_obs, "min_obs", minimum=3)
    if not isinstance(studentize, bool):
        raise TypeError(f"studentize must be a bool, got {type(studentize).__name__}")
    length: float | None = None
    if block_length is not None:
        if kind == "circular":
            length = float(v.integer(block_length, "block_length", minimum=1))
        else:
            length = v.real(block_length, "block_length", low=1.0)
    clean = data
    if not finite:
        complete = ~np.isnan(data).any(axis=1)
        clean = data if complete.all() else np.ascontiguousarray(data[complete])
    n = clean.shape[0]
    skip = None
    if n < min_obs_value:
        skip = (
            f"only {n} common observations (rows where every hypothesis is finite) out of "
            f"{n_total}; at least min_obs={min_obs_value} are required"
        )
    elif length is not None and length > n:
        skip = f"block_length={length:g} exceeds the {n} common observations"
    return FamilySettings(
        data=clean,
        hypothesis_ids=ids,
        n_obs_total=n_total,
        n_obs=n,
        reps=reps_value,
        block_length=length,
        bootstrap=kind,
        seed=seed_int,
        min_obs=min_obs_value,
        studentize=studentize,
        skip_reason=skip,
    )


def long_run_variance(data: np.ndarray, method: str, block_length: float) -> np.ndarray:
    """Variance of ``sqrt(n) * mean`` implied by the block bootstrap, per column.

    Stationary: :math:`\\hat\\gamma_0 + 2\\sum_{i=1}^{n-1}\\kappa_i\\hat\\gamma_i` with
    :math:`\\kappa_i = (1-i/n)(1-p)^i + (i/n)(1-p)^{n-i}`, ``p = 1/b`` (Politis & Romano 1994,
    used by Hansen 2005, section 2). Circular: Bartlett weights ``1 - i/b`` for ``i < b`` on the
    circular autocovariances (the exact bootstrap variance when ``b`` divides ``n``). All columns
    from one batched FFT (see :mod:`crypto_analyzer.stats._spectral`).
    """
    return bootstrap_long_run_variance_of(data, method, block_length)


def draw_null(settings: FamilySettings) -> NullDraw:
    """The one bootstrap draw every family statistic shares (count matrix times data).

    With a given block length the draw does not need the spectrum, so the long-run variances
    (per-column FFTs) are computed on one background thread while this thread draws the blocks
    and forms the prefix sums - a single-threaded row loop that would otherwise leave the second
    core idle - and the pool runs the sparse product. One background thread, not the pool: the
    row loop gives up the GIL 5,000 times and more threads competing for it slowed it several
    fold (measured at N = 1,000: 104 ms a call against 113 ms with the pool and 125 ms with no
    overlap). Each computation is the same as in sequence; only the wall time changes.
    """
    data = settings.data
    n = data.shape[0]
    if settings.block_length is None:
        spectrum = spectrum_of(data)
        length = automatic_block_length(data, settings.bootstrap, spectrum)
        if settings.bootstrap == "circular":
            length = float(math.ceil(length))
        length = min(length, float(n))
        rule = "politis-white"
        variances = _done(bootstrap_long_run_variance(spectrum, settings.bootstrap, length))
    else:
        length, rule = settings.block_length, "user"
        variances = _in_background(
            partial(
                bootstrap_long_run_variance_of, data, settings.bootstrap, length, parallel=False
            )
        )
    mean = data.mean(axis=0)
    rng = make_rng(settings.seed)
    deviations = bootstrap_deviations(data, settings.bootstrap, length, settings.reps, rng, mean)
    variance = variances()
    scale = np.sqrt(variance) if settings.studentize else np.ones_like(mean)
    # sqrt(n) * deviations, in place (x * s == s * x): no second (reps, N) array
    centred = np.multiply(deviations, math.sqrt(n), out=deviations)
    return NullDraw(
        n=n,
        mean=mean,
        variance=variance,
        scale=scale,
        centred=centred,
        block_length=length,
        block_length_rule=rule,
    )


def _done(value: np.ndarray) -> Callable[[], np.ndarray]:
    return lambda: value


def _in_background(job: Callable[[], np.ndarray]) -> Callable[[], np.ndarray]:
    """Start ``job`` on its own thread; the returned callable waits for it (re-raising errors)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = job()
        except BaseException as error:  # handed to the waiting caller
            box["error"] = error

    thread = threading.Thread(target=run, name="stats-variances", daemon=True)
    thread.start()

    def wait() -> np.ndarray:
        thread.join()
        if "error" in box:
            raise box["error"]
        result: np.ndarray = box["value"]
        return result

    return wait


def zero_scale_reason(settings: FamilySettings, draw: NullDraw) -> str | None:
    """Skip reason when a studentized statistic would divide by a zero long-run variance."""
    if not settings.studentize:
        return None
    bad = np.flatnonzero(~(draw.scale > 0.0))
    if bad.size == 0:
        return None
    names = ", ".join(settings.hypothesis_ids[i] for i in bad[:5])
    return f"hypotheses with zero long-run variance cannot be studentized: {names}"


def recentring_shift(draw: NullDraw, recentring: str) -> np.ndarray:
    """``sqrt(n) * (mean - g(mean))`` added to the centred draws (Hansen 2005, eq. 7-8).

    upper: ``g(x) = x`` (no shift; White's choice); lower: ``g(x) = max(x, 0)``; consistent:
    ``g(x) = x * 1{x >= -sqrt(2 log log n * var / n)}``.
    """
    mean, n = draw.mean, draw.n
    if recentring == "upper":
        return np.zeros_like(mean)
    if recentring == "lower":
        return math.sqrt(n) * np.minimum(mean, 0.0)
    threshold = -np.sqrt(draw.variance / n * 2.0 * math.log(math.log(n)))
    return math.sqrt(n) * np.where(mean < threshold, mean, 0.0)


def null_statistics(draw: NullDraw, recentring: str) -> np.ndarray:
    """``(reps, N)`` bootstrap statistics under the recentred null, scaled per hypothesis."""
    shift = recentring_shift(draw, recentring)
    return (draw.centred + shift) / draw.scale


NullKey = tuple[str, bool]
"""A bootstrap null: ``(recentring, scaled)``; unscaled means divided by ones (White's)."""


@dataclass(frozen=True)
class StepDownQuery:
    """What StepM needs from one null: suffix-maximum exceedance counts in sorted order.

    ``order`` sorts the hypotheses by decreasing observed statistic and ``thresholds`` are the
    observed statistics in that order; ``counts[j]`` (sorted position ``j``) is the number of
    draws whose maximum over sorted positions ``j .. N-1`` exceeds ``thresholds[j]``.
    """

    key: NullKey
    order: np.ndarray
    thresholds: np.ndarray


ROW_PIECE = 64
"""Draws per piece of the fused null pass: a ``(64, N)`` buffer stays in L2 for N in the
thousands, so each recentring reads the centred draws from cache instead of memory."""


def null_summaries(
    draw: NullDraw,
    maxima: Sequence[NullKey],
    step_down: StepDownQuery | None = None,
    recorded: Sequence[NullKey] = (),
) -> tuple[dict[NullKey, np.ndarray], np.ndarray | None]:
    """Row maxima of several bootstrap nulls and StepM's exceedance counts, in one pass.

    Every value is the one :func:`null_statistics` gives (``(centred + shift) / scale``, the same
    operations on the same operands), but piece by piece over the draws, without a ``(reps, N)``
    temporary per recentring, and with three exact shortcuts:

    * unscaled: the division by ones is skipped (``x / 1.0 == x`` for every float);
    * upper recentring (shift 0): ``max_k (c_k + 0) == (max_k c_k) + 0`` exactly (adding zero only
      turns ``-0.0`` into ``+0.0`` and is monotone), so the maximum is taken on the draws as they
      are; scaled upper values ``c / s`` differ from ``(c + 0) / s`` at most in the sign of a
      zero, which comparisons (SPA, StepM) cannot see - keys in ``recorded`` (maxima that are
      reported as values, White's null draws) keep the ``+ 0`` when scaled;
    * StepM: the suffix maxima of the sorted row are a running maximum over the reversed order,
      compared with the thresholds and counted per piece (integer counts, exact in any order).

    Pieces are independent (disjoint rows, integer partial counts) and run on the kernel pool.
    """
    centred = draw.centred
    reps, columns = centred.shape
    keys = list(dict.fromkeys(maxima))
    exact = set(recorded)
    shifts = {key: recentring_shift(draw, key[0]) for key in keys}
    if step_down is not None and step_down.key not in shifts:
        shifts[step_down.key] = recentring_shift(draw, step_down.key[0])
    out = {key: np.empty(reps, dtype=np.float64) for key in keys}
    starts = range(0, reps, ROW_PIECE)
    partial_counts = np.zeros((len(starts), columns), dtype=np.int64)
    if step_down is not None:
        reverse = step_down.order[::-1].copy()
        thresholds = step_down.thresholds[::-1].copy()

    def values(key: NullKey, rows: np.ndarray, buffer: np.ndarray) -> np.ndarray:
        recentring, scaled = key
        if recentring == "upper" and not scaled:
            return rows
        if recentring == "upper" and key not in exact:
            return np.divide(rows, draw.scale, out=buffer)
        np.add(rows, shifts[key], out=buffer)
        if scaled:
            np.divide(buffer, draw.scale, out=buffer)
        return buffer

    def piece(index: int) -> None:
        first = starts[index]
        rows = centred[first : first + ROW_PIECE]
        buffer = np.empty_like(rows)
        for key in keys:
            block = values(key, rows, buffer)
            np.max(block, axis=1, out=out[key][first : first + rows.shape[0]])
            if step_down is not None and key == step_down.key:
                count_step_down(block, index)
        if step_down is not None and step_down.key not in out:
            count_step_down(values(step_down.key, rows, buffer), index)

    def count_step_down(block: np.ndarray, index: int) -> None:
        running = np.take(block, reverse, axis=1)
        np.maximum.accumulate(running, axis=1, out=running)
        np.sum(running > thresholds, axis=0, out=partial_counts[index])

    run_all(partial(piece, index) for index in range(len(starts)))
    for key in keys:
        if key[0] == "upper" and not key[1]:
            out[key] += 0.0  # max(c + 0) == max(c) + 0: White's recorded null draws, bit for bit
    counts = None
    if step_down is not None:
        counts = partial_counts.sum(axis=0)[::-1]
    return out, counts


def observed_statistics(draw: NullDraw) -> np.ndarray:
    """``sqrt(n) * mean_k / scale_k`` per hypothesis."""
    return math.sqrt(draw.n) * draw.mean / draw.scale


def common_fields(
    settings: FamilySettings, draw: NullDraw | None, skip: str | None
) -> dict[str, Any]:
    """Settings every family result records (requested/actual draws, block length, seed, ...)."""
    return {
        "hypothesis_ids": settings.hypothesis_ids,
        "n_obs": settings.n_obs,
        "n_obs_total": settings.n_obs_total,
        "min_obs": settings.min_obs,
        "reps_requested": settings.reps,
        "reps_actual": 0 if skip is not None else settings.reps,
        "bootstrap": settings.bootstrap,
        "block_length": None if draw is None else draw.block_length,
        "block_length_rule": None if draw is None else draw.block_length_rule,
        "studentized": settings.studentize,
        "seed": settings.seed,
        "skip_reason": skip,
    }


def exceedance(null_max: np.ndarray, observed: float) -> float:
    """Bootstrap p-value ``mean(null_max > observed)`` (strict, as in Hansen 2005, eq. 9).

    Only for statistics with a continuous bootstrap distribution (RC, StepM): ties then have
    probability zero. A statistic floored at 0 (SPA) must use :func:`floored_exceedance`.
    """
    return float(np.mean(null_max > observed))


def floored_exceedance(null_max: np.ndarray, observed: float) -> float:
    """p-value of a statistic floored at 0: ``mean(max(null_max, 0) >= max(observed, 0))``.

    H0 is composite (every ``E[d_k] <= 0``). When no sample mean is positive the floored statistic
    is exactly 0, the boundary value every floored draw attains; a tie at the boundary counts as
    "at least as extreme", so the p-value is 1 and the test cannot reject. The strict count
    ``mean(null_max > 0)`` would instead go to 0 as the recentred draws of clearly negative
    hypotheses move below 0, rejecting the null exactly when the evidence favours it. Above the
    boundary a tie has probability zero and both counts agree.
    """
    statistic = max(observed, 0.0)
    return float(np.mean(np.maximum(null_max, 0.0) >= statistic))
