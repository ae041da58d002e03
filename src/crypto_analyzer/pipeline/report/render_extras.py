"""What the templates show besides the run summary: verdict, tear sheets, captions, caveats.

Kept apart from ``stats/overview.json`` (the summary artifact): these are views for the reader,
computed from artifacts that are stored on their own (``verdict.json``, ``stats/tearsheet.json``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crypto_analyzer.pipeline.report.caveats import caveats
from crypto_analyzer.pipeline.report.compute import ReportComputation
from crypto_analyzer.pipeline.report.tearsheet_artifacts import tearsheet_rows

__all__ = ["FIGURE_CAPTIONS", "figure_caption", "render_extras"]

FIGURE_CAPTIONS = {
    "ic_decay": "IC decay — mean out-of-sample rank IC of each signal at each horizon.",
    "regime_ic": "Mean out-of-sample IC within each market regime (regimes fitted on train rows).",
    "cumulative_net_returns": (
        "Out-of-sample portfolio return net of costs, compounded (prod(1 + r) − 1, in %)."
    ),
    "capacity": "Capacity — annualised net Sharpe as the capital traded grows.",
    "power_curve": "Power — probability that the policy's effect gate passes at a true mean IC.",
    "pbo_logits": "Probability of backtest overfitting — CSCV logits of the in-sample best.",
    "reality_check_null": "White's Reality Check — bootstrap null of the family's best statistic.",
}


def figure_caption(name: str) -> str:
    """A human caption for a figure name (tear sheets are captioned per hypothesis)."""
    return FIGURE_CAPTIONS.get(name, name.replace("_", " "))


def render_extras(
    verdict: Mapping[str, Any], computation: ReportComputation, figure_names: Sequence[str]
) -> dict[str, Any]:
    """Template context: ``verdict``, ``tearsheets``, ``family_figures``, ``caveats``."""
    return {
        "caveats": caveats(),
        "family_figures": [
            {"caption": figure_caption(name), "name": name}
            for name in figure_names
            if not name.startswith("tearsheet/")
        ],
        "tearsheets": tearsheet_rows(computation),
        "verdict": dict(verdict),
    }
