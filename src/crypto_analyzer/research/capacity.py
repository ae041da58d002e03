"""Capacity: how net performance decays as capital grows, and the execution evidence record.

Market impact scales with participation, and participation scales with capital, so a strategy
that is profitable with 100k can lose money with 100M. Under the cost model of
:mod:`crypto_analyzer.research.portfolio` the per-bar cost at capital ``A`` is

.. math:: c_t(A) = \\ell \\sum_j |\\Delta h_{t,j}|
                 + \\kappa A^{e} \\sum_j |\\Delta h_{t,j}|^{1+e} \\, DV_{t,j}^{-e}

(``l`` linear rate, ``kappa`` impact coefficient, ``e`` exponent), so the whole curve over an AUM
grid is computed from two per-bar sums, without re-running the backtest per grid point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.research._checks import check_aligned, check_float, check_frame, check_int
from crypto_analyzer.research.panel import Panel
from crypto_analyzer.research.portfolio import (
    CostModel,
    _trade_blocks,
    annualised_sharpe,
)

__all__ = [
    "EXECUTION_EVIDENCE_SCHEMA",
    "EXECUTION_EVIDENCE_SCHEMA_VERSION",
    "capacity_curve",
    "execution_evidence",
]

EXECUTION_EVIDENCE_SCHEMA = "crypto_analyzer.research.execution_evidence"
EXECUTION_EVIDENCE_SCHEMA_VERSION = 1


def _capacity_iv(
    weights: Any, panel: Any, cost_model: Any, aum_grid: Any, lag: Any
) -> tuple[np.ndarray, int]:
    if not isinstance(panel, Panel):
        raise TypeError(f"panel must be a Panel, got {type(panel).__name__}")
    check_frame("weights", weights)
    check_aligned("weights", weights, "panel.close", panel.close)
    if weights.isna().to_numpy().any():
        raise ValueError("weights contains NaN; use 0 for assets not held")
    if not isinstance(cost_model, CostModel):
        raise TypeError(f"cost_model must be a CostModel, got {type(cost_model).__name__}")
    if isinstance(aum_grid, (str, bytes)) or not isinstance(aum_grid, Sequence | np.ndarray):
        raise TypeError(f"aum_grid must be a sequence of positive floats, got {aum_grid!r}")
    grid = [
        check_float(f"aum_grid[{i}]", a, minimum=0.0, strict_min=True)
        for i, a in enumerate(aum_grid)
    ]
    if not grid:
        raise ValueError("aum_grid must not be empty")
    return np.array(sorted(set(grid))), check_int("lag", lag, minimum=1)


def capacity_curve(
    weights: pd.DataFrame,
    panel: Panel,
    *,
    cost_model: CostModel,
    aum_grid: Sequence[float],
    lag: int = 1,
) -> pd.DataFrame:
    """Net performance and participation of a weights path across capital levels.

    Parameters
    ----------
    weights : pandas.DataFrame
        Target weights (see :func:`~crypto_analyzer.research.portfolio.portfolio_weights`).
    panel : Panel
        Returns and dollar volume.
    cost_model : CostModel
    aum_grid : sequence of float
        Capital levels (quote currency); sorted and de-duplicated.
    lag : int
        Execution lag in bars.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``aum``: ``gross_sharpe, net_sharpe, mean_net, mean_cost, max_participation,
        p95_participation`` (participation over trades only). Sharpe ratios are annualised;
        NaN where undefined.
    """
    grid, lag = _capacity_iv(weights, panel, cost_model, aum_grid, lag)
    e = cost_model.impact_exponent
    n_rows = weights.shape[0]
    gross, linear, impact_base = np.empty(n_rows), np.empty(n_rows), np.empty(n_rows)
    traded_parts: list[np.ndarray] = []
    for block, held, rets, trades, dv in _trade_blocks(weights, panel, lag):
        gross[block] = (held * rets).sum(axis=1)
        linear[block] = cost_model.linear_rate * trades.sum(axis=1)
        traded = (trades > 0) & np.isfinite(dv) & (dv > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            unit_part = np.where(traded, trades / dv, 0.0)
        impact_base[block] = (trades * np.power(unit_part, e)).sum(axis=1)
        traded_parts.append(unit_part[traded])
    part_values = np.concatenate(traded_parts) if traded_parts else np.empty(0)
    max_unit = float(part_values.max()) if part_values.size else 0.0
    p95_unit = float(np.quantile(part_values, 0.95)) if part_values.size else 0.0
    per_year = panel.periods_per_year
    rows = []
    for aum in grid:
        net = gross - linear - cost_model.impact_coef * aum**e * impact_base
        rows.append(
            {
                "aum": aum,
                "gross_sharpe": _nan(annualised_sharpe(gross, per_year)),
                "net_sharpe": _nan(annualised_sharpe(net, per_year)),
                "mean_net": float(net.mean()),
                "mean_cost": float((gross - net).mean()),
                "max_participation": max_unit * aum,
                "p95_participation": p95_unit * aum,
            }
        )
    return pd.DataFrame(rows).set_index("aum")


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _none(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def _execution_evidence_iv(max_participation: Any, min_net_sharpe: Any) -> None:
    # weights, panel, cost model and grid are checked by capacity_curve
    check_float("max_participation", max_participation, minimum=0.0, strict_min=True)
    check_float("min_net_sharpe", min_net_sharpe)


def execution_evidence(
    weights: pd.DataFrame,
    panel: Panel,
    *,
    cost_model: CostModel,
    aum_grid: Sequence[float],
    lag: int = 1,
    max_participation: float = 0.05,
    min_net_sharpe: float = 0.0,
) -> dict[str, Any]:
    """Schema-versioned execution evidence: cost assumptions, capacity curve and capacity estimate.

    ``capacity_aum`` is the largest grid capital at which the net Sharpe is at least
    ``min_net_sharpe`` *and* the largest single-trade participation is at most
    ``max_participation``; None if no grid point qualifies. Undefined numbers are None, so the
    dict is canonical-JSON-able.
    """
    _execution_evidence_iv(max_participation, min_net_sharpe)
    curve = capacity_curve(weights, panel, cost_model=cost_model, aum_grid=aum_grid, lag=lag)
    ok = (curve["net_sharpe"] >= min_net_sharpe) & (curve["max_participation"] <= max_participation)
    capacity = float(curve.index[ok.to_numpy()].max()) if ok.any() else None
    points = [
        {"aum": float(aum), **{col: _none(float(row[col])) for col in curve.columns}}
        for aum, row in curve.iterrows()
    ]
    return {
        "schema": EXECUTION_EVIDENCE_SCHEMA,
        "schema_version": EXECUTION_EVIDENCE_SCHEMA_VERSION,
        "cost_model": cost_model.to_dict(),
        "lag": int(lag),
        "bars_per_year": panel.periods_per_year,
        "limits": {
            "max_participation": float(max_participation),
            "min_net_sharpe": float(min_net_sharpe),
        },
        "curve": points,
        "capacity_aum": capacity,
        "n_bars": len(weights),
    }
