"""The causality contract of a signal as a check: its value at bar ``t`` uses data up to ``t`` only.

Two checks, each one way a signal can see the future:

* ``prefix_recompute`` — recompute the signal on the first ``cut`` bars only (what a researcher
  standing at bar ``cut - 1`` had) and compare it with the first ``cut`` rows of the full-sample
  signal. A signal that shifts data backwards, centres a window, or normalises with whole-sample
  statistics gives different values on the prefix.
* ``future_shock`` — scale every price and volume after bar ``after`` (by a different factor per
  asset) and recompute on the whole sample; the rows up to ``after`` must not move.

The built-in signals are tested with these functions (``tests/unit/research``) and the report runs
the same functions on every signal plugin before a run starts
(:mod:`crypto_analyzer.pipeline.report.plugin_check`), so "causal" means one thing everywhere. A
check reports the first mismatching bar and asset, so a failure can be located from the message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.research.panel import Panel

__all__ = [
    "CAUSALITY_CHECKS",
    "FUTURE_SHOCK",
    "PREFIX_RECOMPUTE",
    "CausalityFinding",
    "check_causality",
    "shocked_panel",
]

PREFIX_RECOMPUTE = "prefix_recompute"
FUTURE_SHOCK = "future_shock"
CAUSALITY_CHECKS = (PREFIX_RECOMPUTE, FUTURE_SHOCK)
"""Names of the checks, in the order :func:`check_causality` runs them."""

_MIN_ROWS = 8
_RTOL = 1e-10
_ATOL = 1e-12

SignalFn = Callable[[Panel], pd.DataFrame]


@dataclass(frozen=True, slots=True)
class CausalityFinding:
    """The outcome of one check: ``detail`` says what was compared, or where it first differed."""

    check: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """Canonical-JSON-able dict."""
        return {"check": self.check, "detail": self.detail, "passed": self.passed}


def _default_cuts(n_rows: int) -> tuple[int, int]:
    """Two prefix lengths inside the sample: half and three quarters of it."""
    return max(2, n_rows // 2), max(3, (3 * n_rows) // 4)


def shocked_panel(panel: Panel, after: int) -> Panel:
    """``panel`` with every close and volume after row ``after`` scaled, differently per asset;
    returns and dollar volume are derived again, so rows up to ``after`` are identical to the
    input in every field.

    Prices are scaled by factors spread from 0.6 to 1.8 across assets and volumes by factors from
    0.1 to 3 in the opposite order: a shock common to all assets would vanish in a cross-sectional
    z-score and hide a peek at the next bar.
    """
    n_assets = panel.shape[1]
    price = np.linspace(0.6, 1.8, n_assets)
    size = np.linspace(3.0, 0.1, n_assets)
    close = panel.close.copy()
    close.iloc[after + 1 :] *= price
    volume = panel.volume.copy()
    volume.iloc[after + 1 :] *= size
    log_close = np.log(close.to_numpy(dtype=np.float64, na_value=np.nan))
    rets = np.full(log_close.shape, np.nan)
    rets[1:] = np.diff(log_close, axis=0)
    return Panel(
        close,
        volume,
        pd.DataFrame(rets, index=close.index, columns=close.columns),
        close * volume,
        panel.bar_ms,
    )


def _first_mismatch(
    expected: pd.DataFrame, got: pd.DataFrame, *, rtol: float = _RTOL, atol: float = _ATOL
) -> str | None:
    """Where ``got`` first differs from ``expected`` (row-major), or None when they agree.

    NaN must meet NaN; finite values must agree within ``atol + rtol * |expected|``. A different
    shape, index or column set is a mismatch by itself.
    """
    if not isinstance(got, pd.DataFrame):
        return f"returned {type(got).__name__}, not a pandas DataFrame"
    if not got.index.equals(expected.index):
        return f"rows differ: {len(got)} rows on index {_span(got.index)}, expected {len(expected)}"
    if set(got.columns) != set(expected.columns):
        return f"columns differ: {len(got.columns)} vs {len(expected.columns)} expected"
    got = got.reindex(columns=expected.columns)
    a = expected.to_numpy(dtype=np.float64, na_value=np.nan)
    b = got.to_numpy(dtype=np.float64, na_value=np.nan)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    with np.errstate(invalid="ignore"):
        close = np.abs(a - b) <= atol + rtol * np.abs(a)
    bad = (nan_a != nan_b) | (~nan_a & ~nan_b & ~close)
    if not bad.any():
        return None
    row, col = (int(i) for i in np.argwhere(bad)[0])
    return (
        f"first difference at bar {_label(expected.index[row])} (row {row}), asset "
        f"{_label(expected.columns[col])}: {_num(a[row, col])} with all data vs "
        f"{_num(b[row, col])}"
    )


def _label(value: Any) -> str:
    """A row or column label as a reader writes it (``1701292400000``, not ``np.int64(...)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _span(index: pd.Index) -> str:
    return "[]" if len(index) == 0 else f"[{_label(index[0])} … {_label(index[-1])}]"


def _num(value: float) -> str:
    return "NaN" if np.isnan(value) else f"{value:.12g}"


def _run(compute: SignalFn, panel: Panel, what: str) -> pd.DataFrame | str:
    try:
        out = compute(panel)
    except Exception as exc:  # the signal's own failure is this check's finding
        return f"the signal raised on {what}: {type(exc).__name__}: {exc}"[:500]
    if not isinstance(out, pd.DataFrame):
        return f"the signal returned {type(out).__name__} on {what}, not a pandas DataFrame"
    return out


def _check_causality_iv(
    compute: Any, panel: Any, cuts: Any, shock_after: Any
) -> tuple[tuple[int, ...], int]:
    if not callable(compute):
        raise TypeError(f"compute must be callable, got {type(compute).__name__}")
    if not isinstance(panel, Panel):
        raise TypeError(f"panel must be a Panel, got {type(panel).__name__}")
    n_rows = panel.shape[0]
    if n_rows < _MIN_ROWS:
        raise ValueError(f"the causality check needs at least {_MIN_ROWS} bars, got {n_rows}")
    cuts = tuple(_default_cuts(n_rows) if cuts is None else cuts)
    if not cuts or any(not isinstance(c, int) or not 1 <= c < n_rows for c in cuts):
        raise ValueError(f"cuts must be ints in [1, {n_rows - 1}], got {cuts!r}")
    after = (2 * n_rows) // 3 if shock_after is None else shock_after
    if not isinstance(after, int) or not 0 <= after < n_rows - 1:
        raise ValueError(f"shock_after must be an int in [0, {n_rows - 2}], got {after!r}")
    return cuts, after


def check_causality(
    compute: SignalFn,
    panel: Panel,
    *,
    cuts: Sequence[int] | None = None,
    shock_after: int | None = None,
    rtol: float = _RTOL,
    atol: float = _ATOL,
) -> tuple[CausalityFinding, ...]:
    """Run both causality checks of ``compute`` (panel → time x asset signal) on ``panel``.

    Parameters
    ----------
    compute : callable
        ``compute(panel) -> DataFrame`` aligned with ``panel.close`` rows.
    panel : Panel
        The sample the checks run on (at least 8 bars).
    cuts : sequence of int, optional
        Prefix lengths for ``prefix_recompute``; default: half and three quarters of the sample.
    shock_after : int, optional
        Last unperturbed row for ``future_shock``; default: two thirds of the sample.
    rtol, atol : float
        Tolerances of the comparison (recomputation may reorder floating-point sums).

    Returns
    -------
    tuple of CausalityFinding
        One per check, in :data:`CAUSALITY_CHECKS` order; ``passed`` is False with the first
        difference in ``detail`` when the signal at some bar depends on later data.
    """
    cuts, after = _check_causality_iv(compute, panel, cuts, shock_after)
    full = _run(compute, panel, f"the whole sample ({panel.shape[0]} bars)")
    if isinstance(full, str):
        return tuple(CausalityFinding(name, False, full) for name in CAUSALITY_CHECKS)
    findings = [_prefix(compute, panel, full, cuts, rtol, atol)]
    findings.append(_shock(compute, panel, full, after, rtol, atol))
    return tuple(findings)


def _prefix(
    compute: SignalFn,
    panel: Panel,
    full: pd.DataFrame,
    cuts: tuple[int, ...],
    rtol: float,
    atol: float,
) -> CausalityFinding:
    for cut in cuts:
        head = _run(compute, panel.head_rows(cut), f"the first {cut} bars")
        if isinstance(head, str):
            return CausalityFinding(PREFIX_RECOMPUTE, False, head)
        problem = _first_mismatch(full.iloc[:cut], head, rtol=rtol, atol=atol)
        if problem is not None:
            detail = f"recomputed on the first {cut} of {panel.shape[0]} bars: {problem}"
            return CausalityFinding(PREFIX_RECOMPUTE, False, detail)
    lengths = ", ".join(str(c) for c in cuts)
    return CausalityFinding(
        PREFIX_RECOMPUTE, True, f"prefixes of {lengths} of {panel.shape[0]} bars agree"
    )


def _shock(
    compute: SignalFn, panel: Panel, full: pd.DataFrame, after: int, rtol: float, atol: float
) -> CausalityFinding:
    moved = _run(compute, shocked_panel(panel, after), "the shocked sample")
    if isinstance(moved, str):
        return CausalityFinding(FUTURE_SHOCK, False, moved)
    problem = _first_mismatch(full.iloc[: after + 1], moved.iloc[: after + 1], rtol=rtol, atol=atol)
    if problem is not None:
        detail = f"prices and volumes after row {after} were changed: {problem}"
        return CausalityFinding(FUTURE_SHOCK, False, detail)
    return CausalityFinding(
        FUTURE_SHOCK, True, f"rows up to {after} unchanged when later prices and volumes move"
    )
