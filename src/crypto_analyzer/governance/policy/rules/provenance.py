"""Provenance rules: the evidence is exactly the run the candidate names, on a STRICT dataset,
with supported versions, and every evidence artifact is in the store with its recorded hash."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crypto_analyzer.core.identities import DatasetId, DatasetMode
from crypto_analyzer.governance.policy.rules._base import Findings, RuleInputs

__all__ = ["check_provenance"]


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 20 else text[:16] + "…"


def _same(out: Findings, rule: str, what: str, pairs: Sequence[tuple[str, Any]]) -> None:
    """Deny unless every named source agrees on ``what``."""
    out.check(rule)
    values = {str(value) for _, value in pairs}
    if len(values) > 1:
        listed = ", ".join(f"{source} {_short(value)}" for source, value in pairs)
        out.deny(rule, f"{what} disagrees: {listed}")


def _supported(out: Findings, rule: str, what: str, value: Any, allowed: Sequence[Any]) -> None:
    out.check(rule)
    if value not in allowed:
        out.deny(
            rule, f"{what} {value!r} is not supported; this policy accepts {sorted(allowed)!r}"
        )


def check_provenance(inputs: RuleInputs, out: Findings) -> None:
    """``provenance.*``: identities, versions, digests and artifact presence."""
    bundle, candidate, ctx = inputs.bundle, inputs.candidate, inputs.ctx
    versions = inputs.provenance
    _supported(
        out,
        "provenance.schema_version",
        "bundle schema version",
        bundle.schema_version,
        versions.bundle_schema_versions,
    )
    rule = "provenance.dataset_strict"
    out.check(rule)
    if bundle.dataset_mode != DatasetMode.STRICT.value:
        out.deny(
            rule, f"dataset_mode is {bundle.dataset_mode!r}; promotion needs a STRICT dataset id"
        )
    elif DatasetId.parse(bundle.dataset_id).mode is not DatasetMode.STRICT:
        out.deny(rule, f"dataset_id {_short(bundle.dataset_id)} is not a STRICT dataset id")
    _same(
        out,
        "provenance.signal",
        "signal",
        [("candidate", candidate.signal), ("bundle", bundle.signal)],
    )
    _same(
        out,
        "provenance.run_instance",
        "run instance",
        [("candidate", candidate.run_instance_id), ("bundle", bundle.run_instance_id)],
    )
    _same(
        out,
        "provenance.evidence_digest",
        "evidence digest",
        [("candidate", candidate.evidence_digest), ("bundle", ctx.evidence_digest)],
    )
    run = ctx.run
    rule = "provenance.run"
    out.check(rule)
    if run is None:
        out.deny(rule, f"run {candidate.run_instance_id} is not in tenant {ctx.tenant_id!r}")
        run = {}
    elif run.get("status") != "succeeded":
        out.deny(
            rule,
            f"run {candidate.run_instance_id} has status {run.get('status')!r}, not 'succeeded'",
        )
    if run.get("dataset_mode") not in (None, DatasetMode.STRICT.value):
        out.deny(
            "provenance.dataset_strict",
            f"run dataset_mode is {run.get('dataset_mode')!r}, not 'strict'",
        )
    _same(
        out,
        "provenance.run_key",
        "run_key",
        [
            ("candidate", candidate.run_key),
            ("bundle", bundle.run_key),
            *([("run", run["run_key"])] if "run_key" in run else []),
        ],
    )
    _same(
        out,
        "provenance.dataset_id",
        "dataset_id",
        [
            ("candidate", candidate.dataset_id),
            ("bundle", bundle.dataset_id),
            *([("run", run["dataset_id"])] if "dataset_id" in run else []),
        ],
    )
    _same(
        out,
        "provenance.config_digest",
        "config digest",
        [
            ("bundle", bundle.config_digest),
            *([("run", run["config_digest"])] if "config_digest" in run else []),
        ],
    )
    for rule, what, value, key, allowed in (
        (
            "provenance.engine_version",
            "engine version",
            bundle.engine_version,
            "engine_version",
            versions.supported_engine_versions(),
        ),
        (
            "provenance.spec_version",
            "spec version",
            bundle.spec_version,
            "spec_version",
            versions.supported_spec_versions(),
        ),
        (
            "provenance.seed_version",
            "seed version",
            bundle.seed_version,
            "seed_version",
            versions.supported_seed_versions(),
        ),
    ):
        _supported(out, rule, what, value, allowed)
        if key in run:
            _same(out, rule, what, [("bundle", value), ("run", run[key])])
    if not bundle.seeds:
        out.warn("provenance.seeds", "the bundle records no seeds")
    _check_artifacts(inputs, out)


def _check_artifacts(inputs: RuleInputs, out: Findings) -> None:
    rule = "provenance.artifacts"
    out.check(rule)
    artifacts = inputs.bundle.artifacts
    if not artifacts:
        out.deny(rule, "the bundle lists no evidence artifacts")
        return
    verifier = inputs.ctx.artifacts
    if verifier is None:
        out.deny(rule, "no artifact store to verify the evidence artifacts against")
        return
    for artifact in artifacts:
        problem = verifier.problem(artifact)
        if problem is not None:
            out.deny(rule, f"evidence artifact {artifact.name!r} ({artifact.key}) {problem}")
