"""Effect rules at the candidate's own horizon: IC, HAC t, BH-adjusted p, DSR and PBO."""

from __future__ import annotations

from crypto_analyzer.governance.evidence import HorizonEvidence
from crypto_analyzer.governance.policy.rules._base import Findings, RuleInputs, fmt

__all__ = ["check_effect"]


def check_effect(inputs: RuleInputs, horizon: HorizonEvidence, out: Findings) -> None:
    """Size and significance of the effect, after multiplicity and overfitting adjustments."""
    evidence = horizon
    limits = inputs.limits
    h = evidence.horizon
    out.at_least(
        "effect.mean_ic",
        f"OOS mean IC at horizon {h}",
        evidence.ic.mean_ic,
        limits.min_mean_ic,
        evidence.ic.missing_reason,
    )
    out.at_least(
        "effect.hac_t",
        f"HAC t-statistic of the mean IC at horizon {h}",
        evidence.ic.t_hac,
        limits.min_hac_t,
        evidence.ic.missing_reason,
    )
    out.at_most(
        "effect.bh_p",
        f"Benjamini-Hochberg adjusted p at horizon {h} "
        f"(family of {evidence.multiple_testing.family_size})",
        evidence.multiple_testing.bh_adjusted_p,
        limits.max_bh_p,
        evidence.multiple_testing.missing_reason,
    )
    out.at_least(
        "effect.dsr",
        f"deflated Sharpe ratio at horizon {h}",
        evidence.deflated_sharpe.dsr,
        limits.min_dsr,
        evidence.deflated_sharpe.missing_reason,
    )
    family = evidence.overfitting.family_size
    if family >= 2:
        out.at_most(
            "effect.pbo",
            f"PBO at horizon {h} (family of {family})",
            evidence.overfitting.pbo,
            limits.max_pbo,
        )
    else:
        out.warn(
            "effect.pbo",
            f"PBO not applicable to a family of {fmt(family)}; the bound {fmt(limits.max_pbo)} "
            "applies from 2 members",
        )
