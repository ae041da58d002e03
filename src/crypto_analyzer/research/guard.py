"""The fold guard: every fit states which rows it saw, and a row outside the train set is fatal.

:func:`guarded_fit` sits between the walk-forward driver and ``Transform.fit``. It maps the index
of the data actually handed to ``fit`` back to positions on the panel's time axis, so what it
records is what the transform received, not what the caller intended to pass. It raises
:class:`~crypto_analyzer.research.errors.LeakageError` when

* any feature or label row is not in the fold's training set (test, purged or embargoed rows), or
* a label row's window ``[t, t + label_horizon]`` reaches into a test block (a label realised during
  the test period), checked directly against the test ranges rather than trusted to the purge.

The :class:`FitRecord` it returns is the raw material of the fold-causality attestation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.research._checks import check_int
from crypto_analyzer.research.errors import LeakageError
from crypto_analyzer.research.splits import Fold, Range, rows_to_ranges
from crypto_analyzer.research.transforms import Fitted, Transform

__all__ = ["FitRecord", "guarded_fit", "label_windows_touch_test", "rows_of"]

_SHOW = 5


@dataclass(frozen=True, slots=True)
class FitRecord:
    """What one fit saw.

    Attributes
    ----------
    transform : str
        Transform name.
    params : dict
        Transform settings.
    fold : int
        Fold index.
    scope : str
        What was being fitted (e.g. the signal name).
    rows : tuple of (int, int)
        Half-open ranges of every row position seen in features or labels.
    n_rows : int
        Number of distinct rows seen.
    label_horizon : int or None
        Horizon of the labels passed, None when the fit saw no labels.
    """

    transform: str
    params: dict[str, Any]
    fold: int
    scope: str
    rows: tuple[Range, ...]
    n_rows: int
    label_horizon: int | None

    def to_dict(self) -> dict[str, Any]:
        """Canonical-JSON-able dict."""
        return {
            "transform": self.transform,
            "params": self.params,
            "fold": self.fold,
            "scope": self.scope,
            "rows": [list(r) for r in self.rows],
            "n_rows": self.n_rows,
            "label_horizon": self.label_horizon,
        }


def _rows_of_iv(data: Any, time_index: Any) -> None:
    if not isinstance(data, (pd.DataFrame, pd.Series)):
        raise TypeError(f"data must be a pandas DataFrame or Series, got {type(data).__name__}")
    if not isinstance(time_index, pd.Index):
        raise TypeError(f"time_index must be a pandas Index, got {type(time_index).__name__}")


def rows_of(data: pd.DataFrame | pd.Series, time_index: pd.Index) -> np.ndarray:
    """Row positions on ``time_index`` of every timestamp in ``data``'s index (or its first level).

    Raises
    ------
    LeakageError
        If a timestamp is not on the time axis: such a row cannot be attested.
    """
    _rows_of_iv(data, time_index)
    idx = data.index
    if isinstance(idx, pd.MultiIndex):
        idx = idx.get_level_values(0)
    pos = time_index.get_indexer(pd.Index(idx).unique())
    if (pos < 0).any():
        raise LeakageError(
            f"{int((pos < 0).sum())} row(s) handed to a fit are not on the panel's time axis; "
            "the guard cannot attest them"
        )
    return np.sort(pos).astype(np.int64)


def _guarded_fit_iv(
    transform: Any, x: Any, y: Any, fold: Any, time_index: Any, label_horizon: Any
) -> int | None:
    if not isinstance(transform, Transform):
        raise TypeError(
            f"transform must implement the Transform protocol (name, needs_labels, fit, params), "
            f"got {type(transform).__name__}"
        )
    if not isinstance(x, (pd.DataFrame, pd.Series)):
        raise TypeError(f"x must be a pandas DataFrame or Series, got {type(x).__name__}")
    if y is not None and not isinstance(y, (pd.DataFrame, pd.Series)):
        raise TypeError(f"y must be a pandas DataFrame, Series or None, got {type(y).__name__}")
    if not isinstance(fold, Fold):
        raise TypeError(f"fold must be a Fold, got {type(fold).__name__}")
    if not isinstance(time_index, pd.Index):
        raise TypeError(f"time_index must be a pandas Index, got {type(time_index).__name__}")
    if transform.needs_labels and y is None:
        raise ValueError(f"transform {transform.name!r} needs labels; pass y")
    if y is None:
        if label_horizon is not None:
            raise ValueError("label_horizon given without labels y")
        return None
    if label_horizon is None:
        raise ValueError("label_horizon is required with labels y (the label window length)")
    return check_int("label_horizon", label_horizon, minimum=1)


def guarded_fit(
    transform: Transform,
    x: pd.DataFrame,
    y: pd.DataFrame | None = None,
    *,
    fold: Fold,
    time_index: pd.Index,
    scope: str = "",
    label_horizon: int | None = None,
) -> tuple[Fitted, FitRecord]:
    """Fit ``transform`` on ``x`` (and labels ``y``) after checking every row against ``fold``.

    Parameters
    ----------
    transform : Transform
        The transform spec to fit.
    x, y : pandas.DataFrame
        Training features and (optional) labels, indexed by timestamps of ``time_index``.
    fold : Fold
        The fold whose training set bounds the fit.
    time_index : pandas.Index
        The panel's time axis (row positions are positions in this index).
    scope : str
        Label for the record (e.g. the signal name).
    label_horizon : int, optional
        Horizon of ``y``; required when ``y`` is given.

    Returns
    -------
    fitted : Fitted
    record : FitRecord

    Raises
    ------
    LeakageError
        If any row is outside the training set, or a label window reaches a test row.
    """
    label_horizon = _guarded_fit_iv(transform, x, y, fold, time_index, label_horizon)
    seen = rows_of(x, time_index)
    label_rows = rows_of(y, time_index) if y is not None else np.zeros(0, dtype=np.int64)
    all_rows = np.union1d(seen, label_rows)
    outside = np.setdiff1d(all_rows, fold.train_rows(), assume_unique=True)
    if outside.size:
        raise LeakageError(
            f"transform {transform.name!r} (fold {fold.index}, {scope or 'no scope'}) was handed "
            f"{outside.size} row(s) outside the fold's training set, "
            f"first {outside[:_SHOW].tolist()}"
        )
    if label_horizon is not None and label_rows.size:
        _check_label_windows(transform.name, fold, label_rows, label_horizon)
    fitted = transform.fit(x, y)
    record = FitRecord(
        transform=transform.name,
        params=transform.params(),
        fold=fold.index,
        scope=scope,
        rows=rows_to_ranges(all_rows),
        n_rows=int(all_rows.size),
        label_horizon=label_horizon,
    )
    return fitted, record


def _label_windows_iv(horizon: Any) -> int:
    return check_int("horizon", horizon, minimum=0)


def label_windows_touch_test(
    label_ranges: tuple[Range, ...] | list[list[int]],
    horizon: int,
    test: Sequence[Range] | Sequence[Sequence[int]],
) -> int:
    """Count (label row, test block) pairs where the window ``[t, t + horizon]`` meets the block.

    Zero means no label in ``label_ranges`` is realised inside a test block. Ranges are half-open.
    """
    horizon = _label_windows_iv(horizon)
    bad = 0
    for ls, le in label_ranges:
        for ts, te in test:
            # rows t in [ls, le) with t <= te - 1 and t + horizon >= ts
            lo, hi = max(ls, ts - horizon), min(le, te)
            bad += max(0, hi - lo)
    return bad


def _check_label_windows(name: str, fold: Fold, rows: np.ndarray, horizon: int) -> None:
    bad = label_windows_touch_test(rows_to_ranges(rows), horizon, fold.test)
    if bad:
        raise LeakageError(
            f"transform {name!r} (fold {fold.index}) saw {bad} label row(s) whose {horizon}-bar "
            "window reaches into a test block; increase purge to at least the label horizon"
        )
