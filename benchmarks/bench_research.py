"""Benchmark the research engine's hot paths against naive baselines, measured in the same run.

Usage::

    .venv/bin/python benchmarks/bench_research.py          # full sizes
    .venv/bin/python benchmarks/bench_research.py --quick  # small sizes, a few seconds

Rows:

* rank IC, 2,000 dates x 200 assets: ``ic_series(method="rank")`` against a per-date loop over
  ``scipy.stats.spearmanr`` and against alphalens-reloaded's ``factor_information_coefficient``
  (both on the same panel; the max absolute difference to ours is printed too);
* rolling OLS residuals, 20,000 bars x 200 assets on 2 factors: ``fit_factor_model`` against the
  strong baseline a sceptic would write — rolling OLS from cumulative sums of X'X and X'y in plain
  NumPy, interleaved with ours — and, for scale, a loop of ``numpy.linalg.lstsq`` per (window,
  asset), timed on a subset of windows and assets and extrapolated linearly (the output says so).

"ours" is the best of several repeats; baselines run once. Wall-clock numbers depend on the
machine and its load; the ratio column is what the targets are about.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from crypto_analyzer.research import fit_factor_model, ic_series
from harness import interleaved, machine_line

_SEED = 20240601


@dataclass(frozen=True)
class Row:
    task: str
    size: str
    ours_s: float
    baseline: str
    baseline_s: float
    note: str


def _best(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _once(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def bench_rank_ic(n_dates: int, n_assets: int, with_alphalens: bool) -> list[Row]:
    rng = np.random.default_rng(_SEED)
    sig = rng.standard_normal((n_dates, n_assets))
    fwd = 0.05 * sig + rng.standard_normal((n_dates, n_assets))
    sig[rng.random(sig.shape) < 0.03] = np.nan
    dates = pd.date_range("2024-01-01", periods=n_dates, freq="h")
    signal = pd.DataFrame(sig, index=dates)
    forward = pd.DataFrame(fwd, index=dates)
    size = f"{n_dates:,} dates x {n_assets} assets"

    ours_s, ours = _best(lambda: ic_series(signal, forward, method="rank"), repeats=7)
    ours_ic = np.asarray(ours)

    def naive() -> np.ndarray:
        out = np.full(n_dates, np.nan)
        for t in range(n_dates):
            x, y = sig[t], fwd[t]
            ok = ~(np.isnan(x) | np.isnan(y))
            out[t] = stats.spearmanr(x[ok], y[ok])[0]
        return out

    naive_s, naive_ic = _once(naive)
    diff = float(np.nanmax(np.abs(ours_ic - np.asarray(naive_ic))))
    rows = [
        Row("rank IC", size, ours_s, "scipy spearmanr per date", naive_s, f"max |diff| {diff:.1e}")
    ]
    if with_alphalens:
        from alphalens.performance import factor_information_coefficient

        factor_data = pd.concat(
            {"1h": forward.stack(), "factor": signal.stack()}, axis=1, join="inner"
        ).dropna()
        factor_data.index = factor_data.index.set_names(["date", "asset"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            al_s, al = _once(lambda: factor_information_coefficient(factor_data))
        al_ic = al["1h"].reindex(dates).to_numpy()
        diff = float(np.nanmax(np.abs(ours_ic - al_ic)))
        rows.append(
            Row("rank IC", size, ours_s, "alphalens-reloaded", al_s, f"max |diff| {diff:.1e}")
        )
    return rows


def bench_rolling_ols(
    n_bars: int, n_assets: int, window: int, sub_windows: int, sub_assets: int, repeats: int = 3
) -> list[Row]:
    rng = np.random.default_rng(_SEED + 1)
    factors = rng.normal(0.0, 0.01, size=(n_bars, 2))
    betas = rng.normal(1.0, 0.3, size=(2, n_assets))
    rets = factors @ betas + rng.normal(0.0, 0.01, size=(n_bars, n_assets))
    frame = pd.DataFrame(np.column_stack([factors, rets]), columns=range(n_assets + 2))
    size = f"{n_bars:,} bars x {n_assets} assets, w={window}"

    ours_s, fit = _best(
        lambda: fit_factor_model(frame, factor_ids=[0, 1], window=window, lag=1), repeats=3
    )
    residuals = fit.residuals.to_numpy()  # type: ignore[attr-defined]

    design_all = np.column_stack([np.ones(n_bars), factors])
    ends = np.linspace(window, n_bars - 1, sub_windows).astype(int)
    cols = np.arange(sub_assets)

    def naive_subset() -> float:
        worst = 0.0
        for end in ends:  # estimate on rows end-window .. end-1, used at row `end` (lag 1)
            design = design_all[end - window : end]
            for j in cols:
                coef = np.linalg.lstsq(design, rets[end - window : end, j], rcond=None)[0]
                resid = rets[end, j] - design_all[end] @ coef
                worst = max(worst, abs(resid - residuals[end, j]))
        return worst

    timings = interleaved(
        {
            "cumsum": lambda: _cumsum_rolling_residuals(design_all, rets, window),
            "ours": lambda: fit_factor_model(frame, factor_ids=[0, 1], window=window, lag=1),
        },
        repeat=repeats,
    )
    strong = timings["cumsum"].result
    both = np.isfinite(strong) & np.isfinite(residuals)
    strong_diff = float(np.max(np.abs(strong[both] - residuals[both])))
    rows = [
        Row(
            "rolling OLS residuals",
            size,
            timings["ours"].best,
            "cumulative-sum OLS (NumPy)",
            timings["cumsum"].best,
            f"interleaved best of {repeats}; max |diff| {strong_diff:.1e}",
        )
    ]
    sub_s, worst = _once(naive_subset)
    n_windows_full = (n_bars - window + 1) * n_assets
    naive_full_s = sub_s / (len(ends) * len(cols)) * n_windows_full
    note = (
        f"loop timed on {len(ends)} windows x {len(cols)} assets ({sub_s:.2f} s), "
        f"extrapolated x{n_windows_full / (len(ends) * len(cols)):,.0f}; max |diff| {worst:.1e}"
    )
    rows.append(Row("rolling OLS residuals", size, ours_s, "lstsq per window", naive_full_s, note))
    return rows


def _cumsum_rolling_residuals(design: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    """The strong baseline: rolling OLS from running sums of X'X and X'y, in plain NumPy.

    Each window's normal equations are a difference of two prefix sums, so the whole pass is a
    handful of vectorised operations; the estimate from rows ``t - window .. t - 1`` is applied at
    row ``t`` (lag 1), as ``fit_factor_model`` does.
    """
    n_bars, k = design.shape
    outer = design[:, :, None] * design[:, None, :]
    xtx = np.concatenate([np.zeros((1, k, k)), np.cumsum(outer, axis=0)])
    xty = np.concatenate(
        [np.zeros((1, k, y.shape[1])), np.cumsum(design[:, :, None] * y[:, None, :], axis=0)]
    )
    ends = np.arange(window, n_bars)
    coef = np.linalg.solve(xtx[ends] - xtx[ends - window], xty[ends] - xty[ends - window])
    out = np.full(y.shape, np.nan)
    out[window:] = y[window:] - np.einsum("tk,tkn->tn", design[window:], coef)
    return out


def _print(rows: list[Row], targets: dict[tuple[str, str], str]) -> None:
    header = ("task", "size", "ours [s]", "baseline", "baseline [s]", "ratio", "target", "note")
    table = [header]
    for r in rows:
        ratio = r.baseline_s / r.ours_s if r.ours_s > 0 else float("inf")
        table.append(
            (
                r.task,
                r.size,
                f"{r.ours_s:.4f}",
                r.baseline,
                f"{r.baseline_s:.3f}",
                f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2f}x",
                targets.get((r.task, r.baseline), ""),
                r.note,
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if i == 0:
            print("-+-".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--no-alphalens", action="store_true", help="skip the alphalens row")
    args = parser.parse_args(argv)
    if args.quick:
        ic_size, ols = (500, 100), dict(n_bars=5_000, n_assets=50, window=240)
        sub = dict(sub_windows=100, sub_assets=5)
    else:
        ic_size, ols = (2_000, 200), dict(n_bars=20_000, n_assets=200, window=720)
        sub = dict(sub_windows=300, sub_assets=10)
    rows = bench_rank_ic(*ic_size, with_alphalens=not args.no_alphalens)
    rows += bench_rolling_ols(**ols, **sub)
    targets = {
        ("rank IC", "scipy spearmanr per date"): "ours <= 0.05 s (full size)",
        ("rank IC", "alphalens-reloaded"): "ours <= 0.05 s (full size)",
        ("rolling OLS residuals", "cumulative-sum OLS (NumPy)"): ">= 1x: not slower",
        ("rolling OLS residuals", "lstsq per window"): ">= 100x (full size)",
    }
    print(machine_line())
    _print(rows, targets)


if __name__ == "__main__":
    main()
