"""Re-deriving every recorded decision: does ``passed`` follow from what the report says it judged?

A MAC proves the service wrote a report; it does not prove the service judged right, nor that the
verdict survives someone who flipped it and re-chained the log with owner rights (the MAC then
fails too, but the audit should say *what* is wrong). So ``audit verify`` evaluates every report
again, from evidence outside the report row:

* the policy whose digest the report records, loaded from the artifact store
  (``policies/<digest>.json``, ``governance.policy.documents``) — missing or mismatching is a
  finding; a policy set assembled in code stored no document and is only warned about;
* the validation bundle, hash-checked against its lineage row (``governance.bundles``);
* the research history recomputed from the ledger *prefix* the report names (its recorded
  ``history.ledger.size``), which must also equal the history the report stored;
* the restatements known at the market watermark the evaluation recorded (``context_json``);
* the candidate's status and first promoter as the event chain had them before the report's event;
* the engine/spec/seed versions the evaluating engine had (a policy that leaves them empty means
  "the running engine's"). The rules that run are today's code, so a decision recorded by another
  engine version that no longer re-derives is a warning naming both versions (a rule may have
  changed; the row's MAC still proves the service wrote it), not a finding.

Only the default policy is re-run: plugin and external members are not (their answers may depend
on services the audit cannot replay); a report of such a set gets a warning saying so, and is held
only to "every default-policy denial is among its reasons, and it did not pass if the default
policy denies".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.engine import Connection

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.attest.verify import EnvelopeCheck
from crypto_analyzer.core.versions import ENGINE_VERSION
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance.bundles import LoadedBundle, StoreVerifier, load_bundle
from crypto_analyzer.governance.errors import EvidenceError, PolicyConfigError
from crypto_analyzer.governance.evaluation_inputs import judge_signatures
from crypto_analyzer.governance.outcomes import enforce_lifecycle
from crypto_analyzer.governance.policy import (
    Decision,
    DefaultPolicy,
    EvaluationContext,
    PolicyConfig,
    guarded_evaluate,
)
from crypto_analyzer.governance.policy.documents import load_policy_document, policy_document_key
from crypto_analyzer.governance.records import CandidateRecord, EventRecord, ReportRecord
from crypto_analyzer.governance.research_history import ResearchHistory, research_history
from crypto_analyzer.governance.staleness import Staleness, candidate_staleness
from crypto_analyzer.governance.states import GENESIS_STATUS

__all__ = ["Rederivation", "rederive_reports"]


@dataclass(slots=True)
class Rederivation:
    """Findings (decisions that do not follow), warnings (not fully re-derivable), counts."""

    findings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: int = 0


def _differs(recorded: Any, derived: Any, path: str = "history") -> str | None:
    """Where two JSON documents differ (floats within 1e-9 relative), or None."""
    if isinstance(recorded, dict) and isinstance(derived, dict):
        for name in sorted(set(recorded) | set(derived)):
            found = _differs(recorded.get(name), derived.get(name), f"{path}.{name}")
            if found:
                return found
        return None
    if isinstance(recorded, list) and isinstance(derived, list) and len(recorded) == len(derived):
        for index, (one, other) in enumerate(zip(recorded, derived, strict=True)):
            found = _differs(one, other, f"{path}[{index}]")
            if found:
                return found
        return None
    numbers = (int, float)
    if (
        isinstance(recorded, numbers)
        and isinstance(derived, numbers)
        and not isinstance(recorded, bool)
        and not isinstance(derived, bool)
    ):
        if math.isclose(recorded, derived, rel_tol=1e-9, abs_tol=1e-12):
            return None
    elif recorded == derived:
        return None
    return f"{path}: recorded {recorded!r}, recomputed {derived!r}"


def _as_evaluated(config: PolicyConfig, context: Mapping[str, Any]) -> PolicyConfig:
    """The config with "this engine's version" pinned to the versions the evaluation ran with."""
    provenance = config.provenance
    updates: dict[str, Any] = {}
    for name, recorded in (
        ("engine_versions", context.get("engine_version")),
        ("spec_versions", context.get("spec_version")),
        ("seed_versions", context.get("seed_version")),
    ):
        if not getattr(provenance, name) and recorded is not None:
            updates[name] = (recorded,)
    if not updates:
        return config
    return config.model_copy(update={"provenance": provenance.model_copy(update=updates)})


def _first_promoter(events: Sequence[EventRecord], before: int) -> str | None:
    for event in events:
        if event.seq < before and event.to_status == "candidate":
            return event.actor
    return None


class _Judge:
    """Re-derives one tenant's reports on one connection."""

    def __init__(self, connection: Connection, store: ArtifactStore, tenant_id: str) -> None:
        self.connection = connection
        self.store = store
        self.tenant = tenant_id
        self.out = Rederivation()
        self._policies: dict[str, PolicyConfig | PolicyConfigError] = {}

    def load(self, location: str, digest: str) -> PolicyConfig:
        """The policy document (each read once per audit; a failure is remembered too)."""
        if location not in self._policies:
            try:
                self._policies[location] = load_policy_document(self.store, location, digest)
            except PolicyConfigError as exc:
                self._policies[location] = exc
        found = self._policies[location]
        if isinstance(found, PolicyConfigError):
            raise found
        return found

    def history(
        self, candidate: CandidateRecord, report: ReportRecord, config: PolicyConfig
    ) -> ResearchHistory | None:
        if report.history is None:
            return None
        ledger = report.history.get("ledger")
        size = ledger.get("size") if isinstance(ledger, dict) else None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            self.out.findings.append(
                f"report {report.report_id}: its research history names no ledger size "
                f"({ledger!r}), so the history cannot be recomputed"
            )
            return None
        settings = config.history
        derived = research_history(
            self.connection,
            self.tenant,
            run_instance_id=candidate.run_instance_id,
            hypothesis_id=f"{candidate.signal}@{candidate.horizon}",
            scope=settings.scope,
            online_alpha=settings.online_alpha,
            online_w0=settings.online_w0,
            up_to_seq=size,
        )
        difference = _differs(report.history, derived.to_dict())
        if difference:
            self.out.findings.append(
                f"report {report.report_id} of candidate {candidate.candidate_id}: the research "
                f"history it recorded is not the one the first {size} ledger row(s) give "
                f"({difference})"
            )
        return derived

    def decide(
        self,
        candidate: CandidateRecord,
        report: ReportRecord,
        event: EventRecord,
        events: Sequence[EventRecord],
        config: PolicyConfig,
        context: Mapping[str, Any],
    ) -> Decision:
        at_eval = replace(candidate, status=event.from_status or GENESIS_STATUS)
        first = _first_promoter(events, event.seq)
        if context.get("first_promoter") != first:
            self.out.findings.append(
                f"report {report.report_id}: it recorded first promoter "
                f"{context.get('first_promoter')!r}, the event chain says {first!r}"
            )
        try:
            loaded = load_bundle(
                self.connection,
                self.store,
                self.tenant,
                candidate.run_instance_id,
                candidate.signal,
            )
            problem = None
        except EvidenceError as exc:
            loaded, problem = None, str(exc)
        staleness: Staleness | None = None
        if context.get("staleness_checked"):
            watermark = context.get("market_watermark")
            staleness = candidate_staleness(
                self.connection,
                self.tenant,
                at_eval,
                as_of=watermark if isinstance(watermark, int) else None,
            )
        ctx = EvaluationContext(
            tenant_id=self.tenant,
            actor=report.actor,
            run=repo.run_row(self.connection, self.tenant, candidate.run_instance_id),
            first_promoter=first,
            evidence_digest=None if loaded is None else loaded.evidence_digest,
            evidence_problem=problem,
            artifacts=StoreVerifier(self.store),
            history=self.history(candidate, report, config),
            staleness=staleness,
            signatures=self.signatures(loaded, context),
        )
        policy = DefaultPolicy(_as_evaluated(config, context))
        bundle = None if loaded is None else loaded.bundle
        decision = guarded_evaluate(
            policy, at_eval, bundle, report.level, ctx, timeout_seconds=config.timeout_seconds
        )
        return enforce_lifecycle(decision, at_eval, report.level)

    def signatures(
        self, loaded: LoadedBundle | None, context: Mapping[str, Any]
    ) -> dict[str, EnvelopeCheck] | None:
        """The envelopes as the evaluation judged them: keys as of its recorded time."""
        at = context.get("signatures_at")
        if not isinstance(at, str):  # not checked then (or before signatures existed)
            return None
        checks, _ = judge_signatures(self.connection, self.store, self.tenant, loaded, at)
        return checks

    def policy(self, report: ReportRecord, context: Mapping[str, Any]) -> PolicyConfig | None:
        location = context.get("policy_document")
        if location is None:
            self.out.warnings.append(
                f"report {report.report_id} was decided by a policy set assembled in code "
                f"({report.policy_id}); no policy document was stored, so it was not re-derived"
            )
            return None
        try:
            expected = policy_document_key(report.policy_digest)
            if location != expected:
                raise PolicyConfigError(f"it names policy document {location!r}, not {expected}")
            config = self.load(expected, report.policy_digest)
        except PolicyConfigError as exc:
            self.out.findings.append(
                f"report {report.report_id} of candidate {report.candidate_id}: the policy it "
                f"records cannot be loaded ({exc.problem}), so its decision cannot be re-derived"
            )
            return None
        if config.policy_id != report.policy_id:
            self.out.findings.append(
                f"report {report.report_id}: policy id {report.policy_id!r} is not the stored "
                f"policy's {config.policy_id!r}"
            )
        members = [*config.plugins, *([config.external.policy_id] if config.external else [])]
        if members:
            self.out.warnings.append(
                f"report {report.report_id}: only the default policy was re-derived; "
                f"{', '.join(members)} were not re-run"
            )
        return config

    def judge(
        self,
        candidate: CandidateRecord,
        report: ReportRecord,
        event: EventRecord,
        events: Sequence[EventRecord],
    ) -> None:
        context = report.context
        if not isinstance(context, dict) or "unreadable" in context:
            self.out.findings.append(
                f"report {report.report_id} of candidate {candidate.candidate_id} records no "
                "evaluation context (written before revision 0010, or edited), so its decision "
                "cannot be re-derived"
            )
            return
        config = self.policy(report, context)
        if config is None:
            return
        self.out.checked += 1
        decision = self.decide(candidate, report, event, events, config, context)
        derived = [reason.to_dict() for reason in decision.reasons]
        recorded = list(report.reasons)
        label = (
            f"report {report.report_id} of candidate {candidate.candidate_id} (level "
            f"{report.level})"
        )
        partial = bool(config.plugins or config.external)
        # Rules are today's code: a decision of another engine version may differ because a rule
        # changed, so there a difference is a warning (its MAC still proves who wrote it).
        engine = context.get("engine_version")
        report_it = (
            self.out.findings.append if engine == ENGINE_VERSION else self.out.warnings.append
        )
        upgrade = (
            ""
            if engine == ENGINE_VERSION
            else f" [decided by engine {engine}, re-derived by {ENGINE_VERSION}: a rule change "
            "can explain this]"
        )
        if (report.passed and not decision.allowed) or (
            not partial and report.passed != decision.allowed
        ):
            why = "; ".join(str(reason) for reason in decision.reasons) or "no reason"
            report_it(
                f"{label} recorded passed={report.passed}, but re-deriving it under policy "
                f"{config.policy_id} ({report.policy_digest[:16]}…) from the stored evidence "
                f"gives passed={decision.allowed} ({why}){upgrade}"
            )
            return
        missing = [reason for reason in derived if reason not in recorded]
        extra = [] if partial else [reason for reason in recorded if reason not in derived]
        if missing or extra:
            report_it(
                f"{label}: its reasons do not follow from the evidence — re-derived but not "
                f"recorded: {missing}; recorded but not re-derived: {extra}{upgrade}"
            )


def rederive_reports(
    connection: Connection,
    store: ArtifactStore | None,
    tenant_id: str,
    candidates: Sequence[CandidateRecord],
    reports: Mapping[str, ReportRecord],
    events: Sequence[EventRecord],
) -> Rederivation:
    """Re-derive every report that exactly one event records (the others are consistency
    findings already)."""
    if store is None:
        out = Rederivation()
        if reports:
            out.findings.append(
                "no artifact store is configured, so no decision could be re-derived (policies "
                "and bundles live there)"
            )
        return out
    judge = _Judge(connection, store, tenant_id)
    by_candidate = {candidate.candidate_id: candidate for candidate in candidates}
    deciding: dict[str, list[EventRecord]] = {}
    for event in events:
        if event.report_id is not None:
            deciding.setdefault(event.report_id, []).append(event)
    for report_id, report in sorted(reports.items()):
        candidate = by_candidate.get(report.candidate_id)
        found = deciding.get(report_id, [])
        if candidate is None or len(found) != 1:
            continue
        own = [event for event in events if event.candidate_id == candidate.candidate_id]
        judge.judge(candidate, report, found[0], own)
    return judge.out
