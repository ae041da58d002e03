"""Fold-causality rules: a valid (and, if required, signed) attestation of the split plan.

Signatures are judged from what evaluation verified (``ctx.signatures``, see
``governance.signatures``), never from the bundle's own ``attestation.signed`` flag. Two rules:
``causality.signature`` (the attestation's envelope) and ``evidence.signature`` (the bundle's).
An envelope that was altered (integrity codes of ``attest.verify``) denies at every level; one that
is intact but unsigned, signed by an unknown, revoked or out-of-window key, or missing, denies
where the level requires signatures and is a warning elsewhere.
"""

from __future__ import annotations

from crypto_analyzer.attest.verify import INTEGRITY_CODES
from crypto_analyzer.governance.policy.rules._base import Findings, RuleInputs

__all__ = ["check_causality", "check_signatures"]

_RULES = (("attestation", "causality.signature"), ("bundle", "evidence.signature"))


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


def check_signatures(inputs: RuleInputs, out: Findings) -> None:
    """``causality.signature`` and ``evidence.signature`` (see the module docstring)."""
    required = inputs.limits.require_signature
    checks = inputs.ctx.signatures
    for which, rule in _RULES:
        out.check(rule)
        if checks is None:
            if required:
                out.deny(rule, f"level {inputs.level} requires signatures; they were not checked")
            continue
        check = checks.get(which)
        if check is None:
            if required:
                out.deny(rule, f"missing: no {which} to verify, and level {inputs.level} "
                         "requires a signature")  # fmt: skip
            continue
        for finding in check.problems:
            if finding.code in INTEGRITY_CODES or required:
                out.deny(rule, str(finding))
            elif finding.code != "unsigned":
                out.warn(rule, str(finding))
