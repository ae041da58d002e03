"""Execution rules (costs and capacity at the target capital) and optional regime robustness."""

from __future__ import annotations

from crypto_analyzer.governance.evidence import HorizonEvidence
from crypto_analyzer.governance.policy.rules._base import Findings, RuleInputs

__all__ = ["check_execution", "check_regime"]


def check_execution(inputs: RuleInputs, horizon: HorizonEvidence, out: Findings) -> None:
    """``execution.*``: the signal must survive costs at the capital it is meant to run with."""
    limits = inputs.limits
    execution = horizon.execution
    if execution is None:
        if limits.require_execution:
            out.deny("execution.present", "no execution evidence (net Sharpe, participation)")
        else:
            out.warn("execution.present", "no execution evidence; not required by this policy")
        return
    out.check("execution.present")
    capital = f"{execution.target_capital:,.0f}"
    out.at_least(
        "execution.net_sharpe",
        f"net Sharpe at target capital {capital}",
        execution.net_sharpe,
        limits.min_net_sharpe,
    )
    out.at_most(
        "execution.participation",
        f"max participation at target capital {capital}",
        execution.max_participation,
        limits.max_participation,
    )


def check_regime(inputs: RuleInputs, horizon: HorizonEvidence, out: Findings) -> None:
    """``regime.worst_ic``: judged when regime evidence has enough observations."""
    limits = inputs.limits
    regime = horizon.regime
    rule = "regime.worst_ic"
    if regime is None:
        if limits.require_regime:
            out.deny(rule, "no regime evidence; this policy requires it")
        else:
            out.warn(rule, "no regime evidence; regime robustness not judged")
        return
    if regime.worst_regime_n_obs < limits.min_regime_obs:
        message = (
            f"worst regime {regime.worst_regime!r} has {regime.worst_regime_n_obs} observations, "
            f"below the minimum {limits.min_regime_obs} to judge it"
        )
        if limits.require_regime:
            out.deny(rule, message)
        else:
            out.warn(rule, message)
        return
    out.at_least(
        rule,
        f"IC in the worst regime {regime.worst_regime!r}",
        regime.worst_regime_ic,
        limits.min_worst_regime_ic,
    )
