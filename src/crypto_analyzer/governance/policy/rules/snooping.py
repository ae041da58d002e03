"""Data-snooping rules for families: Reality Check or SPA for the family, Romano-Wolf for this
hypothesis, and enough bootstrap draws behind both."""

from __future__ import annotations

from crypto_analyzer.governance.evidence import HorizonEvidence
from crypto_analyzer.governance.policy.base import Measurement
from crypto_analyzer.governance.policy.rules._base import Findings, RuleInputs, fmt

__all__ = ["check_snooping"]


def check_snooping(inputs: RuleInputs, horizon: HorizonEvidence, out: Findings) -> None:
    """``snooping.*``: required whenever the run tested two or more hypotheses."""
    snooping = horizon.data_snooping
    limits = inputs.limits
    family = max(snooping.family_size, horizon.multiple_testing.family_size)
    if family < 2:
        out.warn("snooping.family", "single hypothesis: Reality Check and Romano-Wolf not required")
        return
    if snooping.skip_reason:
        out.deny(
            "snooping.skipped",
            f"data-snooping tests were skipped for a family of {family}: {snooping.skip_reason}",
        )
    rule = "snooping.family_p"
    out.check(rule)
    found = [p for p in (snooping.rc_p, snooping.spa_p) if p is not None]
    out.measurements.append(
        Measurement(
            rule,
            f"smaller of Reality Check and SPA p (family of {family})",
            min(found) if found else None,
            limits.max_family_p,
            "<=",
        )
    )
    if not found:
        out.deny(
            rule,
            f"neither Reality Check nor SPA p-value is present for a family of {family}; "
            f"the maximum is {fmt(limits.max_family_p)}",
        )
    elif not min(found) <= limits.max_family_p:
        out.deny(
            rule,
            f"Reality Check p {fmt(snooping.rc_p)} and SPA p {fmt(snooping.spa_p)} "
            f"(family of {family}) are above the maximum {fmt(limits.max_family_p)}",
        )
    out.at_most(
        "snooping.romano_wolf",
        f"Romano-Wolf p of this hypothesis (family of {family})",
        snooping.rw_p,
        limits.max_rw_p,
    )
    rule = "snooping.draws"
    out.check(rule)
    requested, actual = snooping.rw_draws_requested, snooping.rw_draws_actual
    out.measurements.append(
        Measurement(rule, "bootstrap draws made / requested",
                    actual / requested if requested > 0 else None, limits.min_draws_ratio, ">=")
    )  # fmt: skip
    if requested <= 0:
        out.deny(rule, "no bootstrap draws were requested for Romano-Wolf")
    elif not actual / requested >= limits.min_draws_ratio:
        out.deny(
            rule,
            f"bootstrap draws {actual} of {requested} requested (ratio {fmt(actual / requested)}), "
            f"below the minimum ratio {fmt(limits.min_draws_ratio)}",
        )
