"""What an evaluation reads before it decides, and what it records so the decision can be redone.

The governance service gathers everything a policy may consult in one read (:func:`gather`): the
run row, the first promoter, the bundle (or why it could not be loaded), the research history and
the restatements under the run. Each failure to gather becomes ``None`` plus a reason, which the
rules turn into a denial (fail closed).

The eligibility report then records, besides the history, the *context* of the decision
(:meth:`EvaluationInputs.context`): the market watermark the restatements were judged at — read
first, so a concurrent ingest cannot make the judgement and the record disagree —, the engine,
spec and seed versions of the evaluating engine, and where the policy document is stored
(:func:`record_policy`). ``audit verify`` re-derives the decision from exactly that
(``governance.rederive``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.attest.registry import key_time
from crypto_analyzer.attest.verify import EnvelopeCheck
from crypto_analyzer.core.clock import from_iso, to_iso
from crypto_analyzer.core.versions import ENGINE_VERSION, SEED_VERSION, SPEC_VERSION
from crypto_analyzer.db.market_history import current_watermark
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance.bundles import LoadedBundle, load_bundle
from crypto_analyzer.governance.errors import EvidenceError
from crypto_analyzer.governance.policy import HistorySettings, PolicySet
from crypto_analyzer.governance.policy.documents import store_policy_document
from crypto_analyzer.governance.records import CandidateRecord
from crypto_analyzer.governance.research_history import ResearchHistory, research_history
from crypto_analyzer.governance.signatures import signature_checks
from crypto_analyzer.governance.staleness import Staleness, candidate_staleness

__all__ = [
    "CONTEXT_VERSION",
    "EvaluationInputs",
    "gather",
    "judge_signatures",
    "record_policy",
]

CONTEXT_VERSION = 1
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EvaluationInputs:
    """Everything one evaluation read, as it read it."""

    run: dict[str, Any] | None
    first_promoter: str | None
    loaded: LoadedBundle | None
    problem: str | None
    history: ResearchHistory | None
    staleness: Staleness | None
    market_watermark: int | None
    signatures: dict[str, EnvelopeCheck] | None = None
    signatures_at: str | None = None
    """When the envelopes were judged (keys' windows and revocations are taken as of then)."""

    def context(self, policy_document: str | None) -> dict[str, Any]:
        """The ``context_json`` of the eligibility report."""
        return {
            "engine_version": ENGINE_VERSION,
            "first_promoter": self.first_promoter,
            "format": CONTEXT_VERSION,
            "market_watermark": self.market_watermark,
            "policy_document": policy_document,
            "seed_version": SEED_VERSION,
            "signatures_at": self.signatures_at,
            "spec_version": SPEC_VERSION,
            "staleness_checked": self.staleness is not None,
        }


def _load(
    connection: Connection, store: ArtifactStore | None, tenant_id: str, candidate: CandidateRecord
) -> tuple[LoadedBundle | None, str | None]:
    """The bundle, or why it could not be loaded (which the policy turns into a denial)."""
    if store is None:
        return None, "no artifact store is configured, so the bundle cannot be read"
    try:
        loaded = load_bundle(
            connection, store, tenant_id, candidate.run_instance_id, candidate.signal
        )
    except EvidenceError as exc:
        return None, str(exc)
    return loaded, None


def gather(
    connection: Connection,
    store: ArtifactStore | None,
    tenant_id: str,
    candidate: CandidateRecord,
    settings: HistorySettings,
) -> EvaluationInputs:
    """Read the inputs of one evaluation of ``candidate``; failures become ``None`` + reason."""
    try:
        watermark: int | None = current_watermark(connection, tenant_id)
    except Exception:
        _LOG.exception("the market watermark of %s could not be read", tenant_id)
        watermark = None
    loaded, problem = _load(connection, store, tenant_id, candidate)
    try:
        history: ResearchHistory | None = research_history(
            connection,
            tenant_id,
            run_instance_id=candidate.run_instance_id,
            hypothesis_id=f"{candidate.signal}@{candidate.horizon}",
            scope=settings.scope,
            online_alpha=settings.online_alpha,
            online_w0=settings.online_w0,
        )
    except Exception:  # fail closed: the history rules deny without a history
        _LOG.exception("research history of %s could not be computed", candidate.candidate_id)
        history = None
    staleness: Staleness | None = None
    if watermark is not None:
        try:
            staleness = candidate_staleness(connection, tenant_id, candidate, as_of=watermark)
        except Exception:  # fail closed: the restatement rule denies (or warns) unchecked
            _LOG.exception("restatements under %s could not be checked", candidate.candidate_id)
    signatures, signatures_at = judge_signatures(connection, store, tenant_id, loaded)
    return EvaluationInputs(
        run=repo.run_row(connection, tenant_id, candidate.run_instance_id),
        first_promoter=repo.first_promoter(connection, tenant_id, candidate.candidate_id),
        loaded=loaded,
        problem=problem,
        history=history,
        staleness=staleness,
        market_watermark=watermark,
        signatures=signatures,
        signatures_at=signatures_at,
    )


def judge_signatures(
    connection: Connection,
    store: ArtifactStore | None,
    tenant_id: str,
    loaded: LoadedBundle | None,
    at: str | None = None,
) -> tuple[dict[str, EnvelopeCheck] | None, str | None]:
    """The run's envelopes verified at ``at`` (default: now, by the tenant's clock rule).

    ``None`` when they could not be checked (no bundle, no store, an error): the signature rules
    deny that wherever a signature is required.
    """
    if loaded is None or store is None:
        return None, None
    try:
        if at is None:
            at = to_iso(key_time(connection, tenant_id))
        return signature_checks(connection, store, tenant_id, loaded, from_iso(at)), at
    except Exception:  # fail closed: unchecked signatures never count as verified
        _LOG.exception("the envelopes of %s could not be checked", loaded.logical_name)
        return None, at


def record_policy(store: ArtifactStore | None, policy: PolicySet) -> str | None:
    """Store the policy file the set was built from; its key, or None for a set built in code.

    Raises when the store refuses: a decision whose policy cannot be stored could not be
    re-derived, so it is not made (fail closed).
    """
    if store is None or policy.config is None:
        return None
    return store_policy_document(store, policy.config)
