"""Benchmark crypto_analyzer.stats against arch and naive loops, measured in the same run.

Usage::

    .venv/bin/python benchmarks/bench_stats.py           # full configuration
    .venv/bin/python benchmarks/bench_stats.py --quick   # small smoke configuration

Prints one table: task, configuration, our time (best of 3), baseline time (one run; the baselines
take seconds to minutes), speedup and target, then a numeric cross-check of each pair.
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats as sps

from crypto_analyzer.stats import (
    family_tests,
    lord_gamma_sequence,
    lord_plus_plus,
    null_suite,
    pbo_cscv,
)


def _timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs (ours: 3 runs; slow baselines: 1 run) and the result."""
    best = float("inf")
    out = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def bench_family(t: int, n: int, reps: int) -> dict[str, Any]:
    from arch.bootstrap import SPA, StepM

    rng = np.random.default_rng(1)
    bench = rng.standard_normal(t)
    models = bench[:, None] + rng.standard_normal((t, n))
    models[:, 0] -= 0.1
    d = bench[:, None] - models
    block = int(math.sqrt(t))

    def ours() -> Any:
        return family_tests(d, seed=7, reps=reps, block_length=float(block))

    def baseline() -> Any:
        spa = SPA(bench, models, block_size=block, reps=reps, seed=7)
        spa.compute()
        stepm = StepM(bench, models, block_size=block, reps=reps, seed=7)
        stepm.compute()
        return spa.pvalues, stepm.superior_models

    ours_s, res = _timed(ours, repeat=3)
    base_s, (pvals, _superior) = _timed(baseline)
    check = f"SPA c p ours {res.spa.pvalue_consistent:.3f} / arch {pvals['consistent']:.3f}"
    return {
        "task": "RC+SPA+StepM vs arch SPA+StepM",
        "config": f"N={n}, T={t}, B={reps}",
        "ours": ours_s,
        "base": base_s,
        "target": ">= 20x",
        "check": check,
    }


def _naive_cscv(returns: np.ndarray, s: int) -> float:
    t, n = returns.shape
    blocks = np.array_split(np.arange(t), s)
    below = 0
    total = 0
    for combo in itertools.combinations(range(s), s // 2):
        is_rows = np.concatenate([blocks[i] for i in combo])
        oos_rows = np.concatenate([blocks[i] for i in range(s) if i not in combo])
        x_is, x_oos = returns[is_rows], returns[oos_rows]
        is_m = x_is.mean(0) / x_is.std(0, ddof=1)
        oos_m = x_oos.mean(0) / x_oos.std(0, ddof=1)
        best = int(np.argmax(is_m))
        rank = (oos_m < oos_m[best]).sum() + ((oos_m == oos_m[best]).sum() + 1) / 2
        w = rank / (n + 1)
        below += math.log(w / (1 - w)) <= 0
        total += 1
    return below / total


def bench_cscv(t: int, n: int, s: int) -> dict[str, Any]:
    r = np.random.default_rng(2).standard_normal((t, n)) * 0.01
    ours_s, res = _timed(lambda: pbo_cscv(r, n_blocks=s, metric="sharpe"), repeat=3)
    base_s, pbo = _timed(lambda: _naive_cscv(r, s))
    return {
        "task": "CSCV PBO (full enumeration) vs per-split loop",
        "config": f"S={s}, N={n}, T={t}, splits={res.n_splits}",
        "ours": ours_s,
        "base": base_s,
        "target": "<= 0.3 s" if (s, n, t) == (16, 200, 2000) else "-",
        "check": f"PBO ours {res.pbo:.4f} / naive {pbo:.4f}",
    }


def _naive_permutation_null(s: np.ndarray, r: np.ndarray, draws: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    out = np.empty(draws)
    for d in range(draws):
        ics = []
        for row_s, row_r in zip(s, r, strict=True):
            ok = np.flatnonzero(np.isfinite(row_s) & np.isfinite(row_r))
            perm = rng.permutation(row_s[ok])
            ics.append(np.corrcoef(sps.rankdata(perm), sps.rankdata(row_r[ok]))[0, 1])
        out[d] = np.mean(ics)
    return out


def bench_null(t: int, n: int, draws: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(4)
    s = rng.standard_normal((t, n))
    r = rng.standard_normal((t, n)) * 0.02 + 0.001 * s
    s[rng.random((t, n)) < 0.05] = np.nan
    one_s, one = _timed(lambda: null_suite(s, r, seed=5, draws=draws, models=("permuted_signal",)))
    all_s, _ = _timed(lambda: null_suite(s, r, seed=5, draws=draws))
    base_s, naive = _timed(lambda: _naive_permutation_null(s, r, draws))
    check = f"null sd ours {np.std(one.nulls[0].mean_ic):.5f} / naive {np.std(naive):.5f}"
    return [
        {
            "task": "null suite: permuted-signal null vs per-row loop",
            "config": f"{t}x{n}, draws={draws}",
            "ours": one_s,
            "base": base_s,
            "target": "-",
            "check": check,
        },
        {
            "task": "null suite: all three nulls (IC + Sharpe) vs loop x1",
            "config": f"{t}x{n}, draws={draws}",
            "ours": all_s,
            "base": base_s,
            "target": "-",
            "check": "baseline = one null only",
        },
    ]


def _direct_lord(p: np.ndarray, alpha: float, w0: float) -> list[bool]:
    """LORD++ by its defining formula: at every t, sum gamma over all past rejection times."""
    gamma = lord_gamma_sequence(p.shape[0])
    taus: list[int] = []
    for t in range(p.shape[0]):
        level = gamma[t] * w0
        if taus:
            level += (alpha - w0) * gamma[t - taus[0] - 1]
            level += alpha * sum(gamma[t - tau - 1] for tau in taus[1:])
        if p[t] <= level:
            taus.append(t)
    out = [False] * p.shape[0]
    for tau in taus:
        out[tau] = True
    return out


def bench_lord(n: int, share: float) -> dict[str, Any]:
    rng = np.random.default_rng(6)
    p = np.where(rng.random(n) < share, 1e-6, rng.random(n))
    ours_s, res = _timed(lambda: lord_plus_plus(p, alpha=0.05), repeat=3)
    base_s, naive = _timed(lambda: _direct_lord(p, 0.05, 0.025))
    same = list(res.rejected) == naive
    return {
        "task": "LORD++ online FDR vs direct per-trial formula",
        "config": f"n={n}, {share:.0%} at p=1e-6, R={res.n_rejections}",
        "ours": ours_s,
        "base": base_s,
        "target": "<< 0.05 s" if n == 10_000 else "-",
        "check": f"decisions identical: {same}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke configuration")
    args = parser.parse_args()
    if args.quick:
        rows = [
            bench_family(1000, 100, 200),
            bench_cscv(500, 50, 10),
            *bench_null(300, 20, 10),
            bench_lord(1000, 0.1),
        ]
    else:
        rows = [
            bench_family(5000, 1000, 1000),
            bench_cscv(2000, 200, 16),
            *bench_null(2000, 50, 100),
            bench_lord(10_000, 0.1),
            bench_lord(10_000, 1.0),
        ]
    header = f"{'task':<52} {'config':<30} {'ours s':>8} {'base s':>8} {'speedup':>8}  target"
    print(header)
    print("-" * len(header))
    for row in rows:
        speed = row["base"] / row["ours"] if row["ours"] > 0 else float("inf")
        print(
            f"{row['task']:<52} {row['config']:<30} {row['ours']:>8.3f} {row['base']:>8.3f} "
            f"{speed:>7.1f}x  {row['target']}"
        )
    print()
    for row in rows:
        print(f"check: {row['task']}: {row['check']}")


if __name__ == "__main__":
    main()
