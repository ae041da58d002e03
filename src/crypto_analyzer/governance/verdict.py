"""The one decision procedure, and a side-effect-free preview of it for a run being reported.

:func:`decide` is what ``promotion evaluate`` decides with (the governance service calls it) and
what the report's verdict table shows (:func:`preview`): the policy set, deny-overrides, then the
service's own state-machine check. There is no second implementation of any rule.

:func:`preview` judges a hypothesis of a run as a freshly created candidate (``exploratory``,
created by the run's actor) would be judged at ``level``, reading the research history and the
restatements as an evaluation reads them (``evaluation_inputs``), restatements as of the run's own
data watermark. It writes nothing: no candidate, no eligibility report, no event, no policy
document. Its inputs differ from a later ``promotion evaluate`` only where the world moves on —
more trials in the ledger, data restated after the run, another actor — and the verdict names the
trials it counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.core.service_key import ServiceKey
from crypto_analyzer.governance.bundles import LoadedBundle
from crypto_analyzer.governance.evaluation_inputs import (
    EvaluationInputs,
    evaluation_context,
    gather_prospective,
)
from crypto_analyzer.governance.evidence import ValidationBundle
from crypto_analyzer.governance.outcomes import enforce_lifecycle
from crypto_analyzer.governance.policy import Decision, EvaluationContext, PolicySet
from crypto_analyzer.governance.records import CandidateRecord
from crypto_analyzer.governance.repository import lineage_rows
from crypto_analyzer.governance.states import GENESIS_STATUS, check_level

__all__ = ["Preview", "candidate_id_for", "decide", "preview", "rule_rows"]


def decide(
    policy: PolicySet,
    candidate: CandidateRecord,
    evidence: ValidationBundle | None,
    level: str,
    ctx: EvaluationContext,
) -> Decision:
    """The decision: every policy of the set (deny-overrides), then the lifecycle check."""
    return enforce_lifecycle(policy.evaluate(candidate, evidence, level, ctx), candidate, level)


def candidate_id_for(tenant_id: str, run_instance_id: str, signal: str, horizon: int) -> str:
    """The id ``promotion create`` gives the candidate (run, signal, horizon) of a tenant."""
    document = {"horizon": horizon, "run": run_instance_id, "signal": signal, "tenant": tenant_id}
    return "cand_" + sha256_json(document)[:16]


def new_candidate(
    tenant_id: str,
    *,
    run_instance_id: str,
    run_key: str,
    dataset_id: str,
    signal: str,
    horizon: int,
    evidence_digest: str,
    actor: str,
) -> CandidateRecord:
    """The record ``promotion create`` makes, before the database stamps its times: one place,
    so the report's preview judges exactly the candidate a later ``create`` writes."""
    return CandidateRecord(
        tenant_id=tenant_id,
        candidate_id=candidate_id_for(tenant_id, run_instance_id, signal, horizon),
        run_instance_id=run_instance_id,
        run_key=run_key,
        dataset_id=dataset_id,
        signal=signal,
        horizon=horizon,
        status=GENESIS_STATUS,
        evidence_digest=evidence_digest,
        eligibility_report_id=None,
        status_reason=None,
        created_by=actor,
        created_at="",
        updated_at="",
    )


@dataclass(frozen=True)
class Preview:
    """A previewed decision and what it read."""

    candidate: CandidateRecord
    level: str
    decision: Decision
    inputs: EvaluationInputs


def preview(
    connection: Connection,
    store: ArtifactStore | None,
    policy: PolicySet,
    *,
    tenant_id: str,
    loaded: LoadedBundle,
    horizon: int,
    actor: str,
    level: str = "candidate",
    run_status: str = "succeeded",
    lineage: Mapping[str, Mapping[str, Any]] | None = None,
    service_key: ServiceKey | None = None,
) -> Preview:
    """How ``promotion evaluate`` would decide a new candidate for (bundle's run, signal, horizon).

    ``loaded`` is the bundle the run stores (its bytes are in ``store`` already, so the artifact
    checks run for real); ``run_status`` is the status the run row is judged with; ``lineage``
    stands for the lineage rows the run will record (envelopes are verified against them), by
    default the rows already recorded; ``service_key`` checks the signing-key rows' MACs as
    ``promotion evaluate`` does.
    """
    level = check_level(level)
    bundle = loaded.bundle
    candidate = new_candidate(
        tenant_id,
        run_instance_id=bundle.run_instance_id,
        run_key=bundle.run_key,
        dataset_id=bundle.dataset_id,
        signal=bundle.signal,
        horizon=horizon,
        evidence_digest=loaded.evidence_digest,
        actor=actor,
    )
    if lineage is None:
        lineage = {
            row["logical_name"]: row
            for row in lineage_rows(connection, tenant_id, bundle.run_instance_id)
        }
    inputs = gather_prospective(
        connection,
        store,
        tenant_id,
        candidate,
        policy.history,
        loaded=loaded,
        run_status=run_status,
        lineage=lineage,
        service_key=service_key,
    )
    ctx = evaluation_context(tenant_id, actor, inputs, store)
    return Preview(candidate, level, decide(policy, candidate, bundle, level, ctx), inputs)


def rule_rows(decision: Decision) -> list[dict[str, Any]]:
    """One row per rule evaluated: ``deny``/``warn``/``pass``, with measured value and threshold.

    A rule with several readings or findings gets one row each, in the order they were made.
    """
    rows: list[dict[str, Any]] = []
    for rule in decision.rules:
        denied = [reason.message for reason in decision.reasons if reason.rule == rule]
        warned = [warning.message for warning in decision.warnings if warning.rule == rule]
        readings = [item for item in decision.measurements if item.rule == rule]
        outcome = "deny" if denied else "warn" if warned else "pass"
        if readings:
            for reading in readings:
                rows.append(
                    {
                        "comparison": reading.comparison,
                        "detail": reading.what,
                        "outcome": "pass" if reading.passed else "deny",
                        "rule": rule,
                        "threshold": reading.threshold,
                        "value": reading.value,
                    }
                )
            # a denial the readings already show is not repeated; one from elsewhere is kept
            shown = any(not reading.passed for reading in readings)
            messages = [*([] if shown else denied), *warned]
        else:
            messages = [*denied, *warned] or [""]
        for message in messages:
            rows.append(
                {
                    "comparison": None,
                    "detail": message,
                    "outcome": outcome,
                    "rule": rule,
                    "threshold": None,
                    "value": None,
                }
            )
    return rows
