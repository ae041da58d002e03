"""Research-history rules: the candidate judged against every trial in its scope, not its run.

The thresholds are the level's own (``min_dsr``, ``max_bh_p``): the history rules apply them to
statistics recomputed over the trial ledger, next to the effect rules that apply them to the run's
family. Every reason names the trial count, so a reader sees what the decision accounted for.
"""

from __future__ import annotations

from crypto_analyzer.governance.policy.rules._base import Findings, RuleInputs, fmt

__all__ = ["check_history"]


def check_history(inputs: RuleInputs, out: Findings) -> None:
    """``history.*``: restated data, DSR and the multiple-testing correction over the scope."""
    _check_restated(inputs, out)
    history = inputs.ctx.history
    if history is None:
        out.deny(
            "history.ledger",
            "the research history (trial ledger) was not available, so the trials in scope "
            "cannot be counted",
        )
        return
    if history.problem is not None or history.scope is None:
        out.deny("history.trial", history.problem or "the candidate's trial has no scope")
        return
    scope = history.scope
    counted = f"{scope.headline()}, effective {fmt(scope.effective_trials)}"
    limits = inputs.limits
    out.at_least(
        "history.dsr",
        f"deflated Sharpe ratio against the research history ({counted})",
        history.dsr,
        limits.min_dsr,
    )
    method = inputs.history.multiple_testing
    if method == "lord++":
        rule = "history.online_fdr"
        out.check(rule)
        if history.online_rejected is not True:
            out.deny(
                rule,
                f"LORD++ (FDR {fmt(history.online_alpha)} over the research programme) gives "
                f"trial #{fmt(history.online_position)} of {scope.unique_trials} in scope the "
                f"level {fmt(history.online_level)}; its p-value "
                f"{fmt(history.trial.p_value if history.trial else None)} is not below it "
                f"({counted})",
            )
        return
    adjusted = history.bh_p if method == "bh" else history.by_p
    name = "Benjamini-Hochberg" if method == "bh" else "Benjamini-Yekutieli"
    missing = (
        f"; {scope.missing_p_values} trial(s) without a p-value count as p = 1"
        if scope.missing_p_values
        else ""
    )
    out.at_most(
        "history.multiple_testing",
        f"{name} adjusted p over the research history ({counted}{missing})",
        adjusted,
        limits.max_bh_p,
    )


def _check_restated(inputs: RuleInputs, out: Findings) -> None:
    """``history.restated``: was market data under the run restated after the run read it?"""
    rule = "history.restated"
    require = inputs.history.on_restatement == "require_reevaluation"
    report = out.deny if require else out.warn
    staleness = inputs.ctx.staleness
    out.check(rule)
    if staleness is None:
        report(rule, "restatements of the run's market data could not be checked")
    elif staleness.problem is not None:
        report(rule, staleness.problem)
    elif staleness.stale:
        report(
            rule,
            f"market data run {staleness.candidate.run_instance_id} used (as of watermark "
            f"{staleness.watermark}) was restated since: {staleness.describe()}; rerun the report "
            "on the current data and promote from the new run",
        )
