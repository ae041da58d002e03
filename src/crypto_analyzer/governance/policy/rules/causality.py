"""Fold-causality rules: a valid (and, if required, signed) attestation of the split plan."""

from __future__ import annotations

from crypto_analyzer.governance.policy.rules._base import Findings, RuleInputs

__all__ = ["check_causality"]


def check_causality(inputs: RuleInputs, out: Findings) -> None:
    """``causality.*``: required with walk-forward/CPCV, and always at a level that demands it."""
    bundle, limits = inputs.bundle, inputs.limits
    folds_used = bundle.walk_forward_used or bundle.cpcv_used
    rule = "causality.attestation"
    if not (folds_used or limits.require_attestation):
        out.warn(rule, f"no walk-forward/CPCV; attestation not required at level {inputs.level}")
        return
    why = "walk-forward/CPCV was used" if folds_used else f"level {inputs.level} requires it"
    attestation = bundle.attestation
    out.check(rule)
    if not attestation.present:
        out.deny(rule, f"no fold-causality attestation, but {why}")
        return
    if not attestation.valid:
        out.deny("causality.valid", f"fold-causality attestation {attestation.name!r} is not valid")
    rule = "causality.artifact"
    out.check(rule)
    listed = bundle.artifact(attestation.name or "")
    if listed is None:
        out.deny(rule, f"attestation {attestation.name!r} is not among the evidence artifacts")
    elif listed.sha256 != attestation.sha256:
        out.deny(
            rule,
            f"attestation {attestation.name!r} sha256 {str(attestation.sha256)[:16]}… differs "
            f"from its evidence artifact {listed.sha256[:16]}…",
        )
    rule = "causality.signature"
    out.check(rule)
    if limits.require_signature and not attestation.signed:
        out.deny(
            rule, f"attestation {attestation.name!r} is unsigned; this level requires a signature"
        )
