"""The report's power analysis: what each hypothesis could have detected, and the power curve.

A null result on a short history is not evidence of no effect. For every hypothesis the report
states, from the run's own design — out-of-sample IC observations, the IC dispersion (which the
cross-section width drives), the Newey–West standard error the report's t uses, the family size
and the Benjamini–Hochberg correction — the minimum detectable mean IC and the minimum detectable
annualised net Sharpe at the run's α and 80 % power, and the power of the default policy's effect
gate (mean IC ≥ ``min_mean_ic`` and HAC t ≥ ``min_hac_t``) if the true IC were each value of
:data:`EFFECT_GRID`. The formulas are in :mod:`crypto_analyzer.stats.power` (analytic; checked
against bootstrap simulation there and in the tests). ``underpowered`` marks hypotheses whose
chance of reaching ``min_hac_t`` at a true IC of ``min_mean_ic`` is below the policy's
``min_power`` — the same quantity as the policy rule ``power.underpowered``.
"""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from crypto_analyzer.governance.policy import load_policy_config
from crypto_analyzer.pipeline.report.compute import ReportComputation, hypothesis_id
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.stats.power import (
    gate_power,
    hac_t_power,
    minimum_detectable_ic,
    minimum_detectable_sharpe,
)

__all__ = ["EFFECT_GRID", "POWER_SCHEMA_VERSION", "power_analysis", "power_curve_figure"]

POWER_SCHEMA_VERSION = 1
EFFECT_GRID = (0.01, 0.02, 0.03, 0.05, 0.06, 0.1)
"""True mean ICs the gate's power is reported at."""
TARGET_POWER = 0.8
CORRECTION = "bh"
_PERIODS_PER_YEAR = {"5min": 105_120.0, "15min": 35_040.0, "1h": 8_760.0, "1D": 365.0}


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def power_analysis(computation: ReportComputation, config: ReportConfig) -> dict[str, Any]:
    """The ``stats/power.json`` document (canonical-JSON values only)."""
    limits = load_policy_config().levels.candidate
    family = max(1, len(computation.hypotheses))
    alpha = config.procedures.alpha
    rows = []
    for (signal, horizon), result in sorted(computation.hypotheses.items()):
        n_obs = int(result.ic.n_obs)
        se = _finite(result.ic.se_hac)
        sd = _finite(result.ic.std)
        row: dict[str, Any] = {"hypothesis": hypothesis_id(signal, horizon), "n_obs": n_obs,
                               "se": se, "ic_sd": sd}  # fmt: skip
        returns = int(np.isfinite(result.net_returns.to_numpy(dtype=float)).sum())
        if n_obs >= 2 and se and sd:
            design = minimum_detectable_ic(
                n_obs=n_obs, ic_sd=sd, lrv_ratio=se**2 * n_obs / sd**2, alpha=alpha,
                power=TARGET_POWER, family_size=family, correction=CORRECTION,
            )  # fmt: skip
            at_threshold = hac_t_power(limits.min_mean_ic, se=se, min_t=limits.min_hac_t)
            row |= {
                "lrv_ratio": design.lrv_ratio,
                "mde_ic": design.mde,
                "gate_power": {
                    f"{effect:g}": gate_power(
                        effect, se=se, min_mean_ic=limits.min_mean_ic, min_hac_t=limits.min_hac_t
                    )
                    for effect in EFFECT_GRID
                },
                "power_at_min_mean_ic": at_threshold,
                "underpowered": limits.min_power is not None and at_threshold < limits.min_power,
            }
        if returns >= 2:
            row["mde_net_sharpe"] = minimum_detectable_sharpe(
                n_obs=returns, periods_per_year=_PERIODS_PER_YEAR[config.freq], alpha=alpha,
                power=TARGET_POWER, family_size=family, correction=CORRECTION,
            )  # fmt: skip
        rows.append(row)
    return {
        "alpha": alpha,
        "correction": CORRECTION,
        "effects": list(EFFECT_GRID),
        "family_size": family,
        "hypotheses": rows,
        "power": TARGET_POWER,
        "schema_version": POWER_SCHEMA_VERSION,
        "thresholds": {
            "min_hac_t": limits.min_hac_t,
            "min_mean_ic": limits.min_mean_ic,
            "min_power": limits.min_power,
            "policy_id": load_policy_config().policy_id,
        },
    }


def power_curve_figure(analysis: dict[str, Any]) -> bytes:
    """Power of the policy's effect gate against the true mean IC, one line per hypothesis."""
    thresholds = analysis["thresholds"]
    grid = np.linspace(0.0, max(EFFECT_GRID), 101)
    figure, axes = plt.subplots(figsize=(7.0, 3.6))
    for row in analysis["hypotheses"]:
        se = row.get("se")
        if not se or "gate_power" not in row:
            continue
        curve = [gate_power(float(x), se=se, min_mean_ic=thresholds["min_mean_ic"],
                            min_hac_t=thresholds["min_hac_t"]) for x in grid]  # fmt: skip
        axes.plot(grid, curve, linewidth=1.2, label=row["hypothesis"])
    axes.axhline(analysis["power"], color="grey", linestyle="--", linewidth=0.8)
    axes.axvline(thresholds["min_mean_ic"], color="grey", linestyle=":", linewidth=0.8)
    axes.set_xlabel("true mean IC")
    axes.set_ylabel("P(pass IC and HAC t gate)")
    axes.set_ylim(0.0, 1.02)
    axes.set_title("Power of the effect gate")
    axes.legend(fontsize=6, ncol=2, loc="lower right")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()
