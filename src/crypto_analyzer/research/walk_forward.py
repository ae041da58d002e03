"""Walk-forward (or CPCV) evaluation driver: out-of-sample ICs plus the facts to attest them.

For every fold of a :class:`~crypto_analyzer.research.splits.SplitPlan` and every signal, the
transform chain is fitted on the fold's training rows only, through
:func:`~crypto_analyzer.research.guard.guarded_fit`, then applied to the test rows; the test-row
signal is scored against forward returns at each horizon. The result carries the per-timestamp
out-of-sample ICs, their summaries, every fit record and the fold-causality attestation built from
those records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from crypto_analyzer.research._checks import (
    check_aligned,
    check_float,
    check_frame,
    check_horizons,
    check_int,
)
from crypto_analyzer.research.attestation import build_attestation
from crypto_analyzer.research.forward_returns import DEFAULT_HORIZONS, forward_returns
from crypto_analyzer.research.guard import FitRecord, guarded_fit
from crypto_analyzer.research.ic import IC_METHODS, ic_series, summarize_ic
from crypto_analyzer.research.panel import Panel
from crypto_analyzer.research.splits import Fold, SplitPlan
from crypto_analyzer.research.transforms import Transform

__all__ = ["WalkForwardResult", "evaluate_walk_forward"]


@dataclass(frozen=True, slots=True)
class WalkForwardResult:
    """Out-of-sample evaluation of one or more signals over a split plan.

    Attributes
    ----------
    fold_ic : pandas.DataFrame
        Long frame: ``fold, signal, horizon, method, bar_open_ms, ic`` for every test timestamp.
    oos_ic : pandas.DataFrame
        One out-of-sample IC series per ``(signal, horizon, method)`` column, indexed by
        ``bar_open_ms``; where a timestamp is tested by several folds (CPCV) their ICs are averaged.
    summary : pandas.DataFrame
        :class:`~crypto_analyzer.research.ic.IcSummary` fields per ``(signal, horizon, method)``,
        plus ``lookahead_suspect``: ``|mean IC| > max_plausible_ic``, a sentinel for features that
        secretly contain future returns.
    fit_records : tuple of FitRecord
        Every guarded fit.
    attestation : dict
        Fold-causality attestation (see :mod:`crypto_analyzer.research.attestation`).
    """

    fold_ic: pd.DataFrame
    oos_ic: pd.DataFrame
    summary: pd.DataFrame
    fit_records: tuple[FitRecord, ...]
    attestation: dict[str, Any]


def _evaluate_iv(
    panel: Any,
    signals: Any,
    plan: Any,
    horizons: Any,
    transforms: Any,
    label_horizon: Any,
    min_assets: Any,
    max_plausible_ic: Any,
) -> tuple[tuple[int, ...], int, int, float]:
    if not isinstance(panel, Panel):
        raise TypeError(f"panel must be a Panel, got {type(panel).__name__}")
    if not isinstance(signals, Mapping) or not signals:
        raise TypeError("signals must be a non-empty mapping name -> DataFrame")
    for name, frame in signals.items():
        if not isinstance(name, str):
            raise TypeError(f"signal names must be str, got {name!r}")
        check_frame(f"signals[{name!r}]", frame)
        check_aligned(f"signals[{name!r}]", frame, "panel.close", panel.close)
    if not isinstance(plan, SplitPlan):
        raise TypeError(f"plan must be a SplitPlan, got {type(plan).__name__}")
    if plan.n_rows != panel.shape[0]:
        raise ValueError(f"plan.n_rows={plan.n_rows} but the panel has {panel.shape[0]} rows")
    horizons = check_horizons("horizons", horizons)
    if plan.purge < max(horizons):
        raise ValueError(
            f"plan.purge={plan.purge} is shorter than the longest horizon {max(horizons)}; "
            "build the plan with horizon >= every evaluated horizon"
        )
    if not isinstance(transforms, Sequence) or not all(
        isinstance(t, Transform) for t in transforms
    ):
        raise TypeError("transforms must be a sequence of Transform specs")
    label_horizon = min(horizons) if label_horizon is None else label_horizon
    label_horizon = check_int("label_horizon", label_horizon, minimum=1)
    if label_horizon > plan.purge:
        raise ValueError(f"label_horizon must be <= plan.purge ({plan.purge}), got {label_horizon}")
    min_assets = check_int("min_assets", min_assets, minimum=3)
    cap = check_float("max_plausible_ic", max_plausible_ic, minimum=0.0, maximum=1.0)
    return horizons, label_horizon, min_assets, cap


def evaluate_walk_forward(
    panel: Panel,
    signals: Mapping[str, pd.DataFrame],
    *,
    plan: SplitPlan,
    run_key: str,
    dataset_id: str,
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    transforms: Sequence[Transform] = (),
    label_horizon: int | None = None,
    min_assets: int = 3,
    max_plausible_ic: float = 0.5,
) -> WalkForwardResult:
    """Out-of-sample IC of each signal over ``plan``, with train-only fitted transforms.

    Parameters
    ----------
    panel : Panel
        Prices (for forward returns) and the time axis the plan indexes.
    signals : mapping of str to pandas.DataFrame
        Signal name -> raw or z-scored signal aligned with ``panel.close``.
    plan : SplitPlan
        Folds; its purge must cover the longest horizon.
    run_key, dataset_id : str
        Recorded in the attestation.
    horizons : sequence of int
        Label horizons in bars.
    transforms : sequence of Transform
        Chain fitted per (fold, signal) on training rows, in order, then applied to test rows.
        A transform may drop columns (e.g. a factor residualiser drops the factor coins); labels
        follow the columns of the transformed signal.
    label_horizon : int, optional
        Horizon of the labels handed to label-using transforms; default the shortest horizon.
    min_assets : int
        Minimum assets for a timestamp's IC.
    max_plausible_ic : float
        Mean |IC| above this is flagged ``lookahead_suspect`` in the summary.

    Returns
    -------
    WalkForwardResult
    """
    horizons, label_h, min_assets, cap = _evaluate_iv(
        panel, signals, plan, horizons, transforms, label_horizon, min_assets, max_plausible_ic
    )
    fwd = forward_returns(panel, horizons=sorted({*horizons, label_h}))
    times = panel.times
    # Signal by signal, fold by fold inside: a mapping that reads each signal from disk
    # (the report's signal store) is then read once per signal, not once per fold. Records and
    # pieces are put back in fold order, the order the result has always had.
    records: dict[tuple[int, int], list[FitRecord]] = {}
    pieces: dict[tuple[int, int], list[pd.DataFrame]] = {}
    for signal_pos, (name, signal) in enumerate(signals.items()):
        for fold_pos, fold in enumerate(plan.folds):
            test_signal, fold_records = _fit_and_apply(
                signal, fwd[label_h], fold, times, transforms, name, label_h
            )
            records[(fold_pos, signal_pos)] = fold_records
            test_rows = fold.test_rows()
            parts = pieces[(fold_pos, signal_pos)] = []
            for h in horizons:
                label = fwd[h].iloc[test_rows].reindex(columns=test_signal.columns)
                for method in IC_METHODS:
                    ic = ic_series(test_signal, label, method=method, min_assets=min_assets)
                    parts.append(
                        pd.DataFrame(
                            {
                                "fold": fold.index,
                                "signal": name,
                                "horizon": h,
                                "method": method,
                                "bar_open_ms": ic.index.to_numpy(),
                                "ic": ic.to_numpy(),
                            }
                        )
                    )
        # A signal read from disk (and its test-row views) is let go before the next is read.
        del signal, test_signal
    order = sorted(pieces)
    fold_ic = pd.concat([piece for key in order for piece in pieces[key]], ignore_index=True)
    fit_records = tuple(record for key in order for record in records[key])
    oos = fold_ic.groupby(["signal", "horizon", "method", "bar_open_ms"], sort=True)["ic"].mean()
    oos_ic = oos.unstack(["signal", "horizon", "method"])
    summary = _summaries(oos_ic, cap)
    attestation = build_attestation(
        run_key=run_key,
        dataset_id=dataset_id,
        plan=plan,
        fit_records=fit_records,
        horizons=horizons,
        time_axis={
            "first_bar_open_ms": int(times[0]),
            "bar_ms": panel.bar_ms,
            "n_rows": len(times),
            # rows are trading bars, not regular slots (the report names the calendar)
            **({"last_bar_open_ms": int(times[-1])} if panel.calendar != "24/7" else {}),
        },
    )
    return WalkForwardResult(fold_ic, oos_ic, summary, fit_records, attestation)


def _fit_and_apply(
    signal: pd.DataFrame,
    labels: pd.DataFrame,
    fold: Fold,
    times: pd.Index,
    transforms: Sequence[Transform],
    scope: str,
    label_h: int,
) -> tuple[pd.DataFrame, list[FitRecord]]:
    test_x = signal.iloc[fold.test_rows()]
    records: list[FitRecord] = []
    if not transforms:  # nothing is fitted: no training copy (it grows with every fold)
        return test_x, records
    train_rows = fold.train_rows()
    train_x = signal.iloc[train_rows]
    for transform in transforms:
        y = None
        if transform.needs_labels:
            y = labels.iloc[train_rows].reindex(columns=train_x.columns)
        fitted, record = guarded_fit(
            transform,
            train_x,
            y,
            fold=fold,
            time_index=times,
            scope=scope,
            label_horizon=label_h if y is not None else None,
        )
        records.append(record)
        train_x = fitted.transform(train_x)
        test_x = fitted.transform(test_x)
    return test_x, records


def _summaries(oos_ic: pd.DataFrame, cap: float) -> pd.DataFrame:
    rows = []
    for signal, horizon, method in oos_ic.columns:
        series = oos_ic[(signal, horizon, method)].dropna()
        summary = summarize_ic(series.to_numpy(), horizon=int(horizon), method=method).to_dict()
        mean = summary["mean"]
        summary["lookahead_suspect"] = bool(mean is not None and abs(mean) > cap)
        rows.append({"signal": signal, **summary})
    out = pd.DataFrame(rows)
    return out.set_index(["signal", "horizon", "method"]).sort_index()
