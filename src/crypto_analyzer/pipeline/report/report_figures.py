"""Every figure of a report, built one at a time from the computation, then rendered to PNG.

:func:`iter_figures` yields ``(name, matplotlib figure)`` — the family figures, then one tear
sheet per hypothesis — so tests can inspect exactly what a run draws (legends, colours, labels),
and :func:`render_figures` turns each into deterministic PNG bytes and closes it before building
the next, so a large family never holds every figure in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from crypto_analyzer.pipeline.report import figures
from crypto_analyzer.pipeline.report.compute import ReportComputation, hypothesis_id
from crypto_analyzer.pipeline.report.figure_style import png
from crypto_analyzer.pipeline.report.power import build_power_curve
from crypto_analyzer.pipeline.report.tearsheet_artifacts import tearsheet_figure_name
from crypto_analyzer.pipeline.report.tearsheet_figures import build_tearsheet

__all__ = ["iter_figures", "render_figures"]


def iter_figures(
    computation: ReportComputation, power: Mapping[str, Any] | None = None
) -> Iterator[tuple[str, Figure]]:
    """The report's figures in display order, each built when asked for (``power``: the
    ``stats/power.json`` document, drawn as the power curve)."""
    returns = pd.DataFrame(
        {hypothesis_id(s, h): r.net_returns for (s, h), r in computation.hypotheses.items()}
    )
    curves = {}
    for (signal, horizon), result in computation.hypotheses.items():
        curve = pd.DataFrame(result.execution["curve"])
        curves[hypothesis_id(signal, horizon)] = pd.DataFrame(
            {"capital": curve["aum"], "net_sharpe": curve["net_sharpe"].astype(float)}
        )
    yield "ic_decay", figures.build_ic_decay(computation.ic_decay)
    table = _regime_table(computation)
    if table is not None:
        yield "regime_ic", figures.build_regime_ic(table)
    yield "cumulative_net_returns", figures.build_cumulative_returns(returns)
    yield "capacity", figures.build_capacity(curves)
    if computation.pbo is not None:
        yield "pbo_logits", figures.build_pbo_logits(computation.pbo.logits, computation.pbo.pbo)
    family = computation.family
    if family is not None and family.reality_check.null_distribution is not None:
        yield (
            "reality_check_null",
            figures.build_null_distribution(
                family.reality_check.null_distribution,
                family.reality_check.statistic,
                "Reality Check",
            ),
        )
    if power is not None:
        yield "power_curve", build_power_curve(dict(power))
    for key, sheet in sorted(computation.tearsheets.items()):
        ic = computation.oos_ic[key] if key in computation.oos_ic.columns else pd.Series([])
        yield tearsheet_figure_name(sheet.hypothesis), build_tearsheet(sheet, ic)


def render_figures(
    computation: ReportComputation, power: Mapping[str, Any] | None = None
) -> dict[str, bytes]:
    """PNG bytes of every figure, keyed by name (``figures/<name>.png`` in the run)."""
    return {name: png(figure) for name, figure in iter_figures(computation, power)}


def _regime_table(computation: ReportComputation) -> pd.DataFrame | None:
    """Mean OOS IC per regime (columns) for each hypothesis (rows), when regimes were assigned."""
    rows = {}
    for (signal, horizon), result in computation.hypotheses.items():
        if result.regime is not None and result.regime.rows:
            rows[hypothesis_id(signal, horizon)] = {
                row["regime"]: row["mean"] for row in result.regime.rows
            }
    if not rows:
        return None
    return pd.DataFrame.from_dict(rows, orient="index").sort_index(axis=1).astype(float)
