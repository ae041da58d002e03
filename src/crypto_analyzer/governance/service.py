"""The governance service: the one code path for create, evaluate, promote, reject and revoke.

Every action is ONE database transaction holding the tenant's chain lock
(:func:`~crypto_analyzer.governance.chain.governed_transaction`): eligibility report, governance
event and status change are written together or not at all. Slow work — reading the bundle and the
evidence artifacts, running the policy (which may call an external service) — happens before the
transaction, and the transaction re-reads the candidate and refuses to write if it changed in the
meantime, so a decision is never applied to a state it did not see.

The service enforces the state machine itself, and the database triggers of revision 0002 enforce
it again for anything that bypasses the service; any error on the way denies (fail closed).

Who acts and when is decided here too, the same way for every interface. ``actor`` is either an
authenticated :class:`~crypto_analyzer.governance.principals.Principal` (the CLI and the API pass
one; its role must allow the action) or a plain name, which is normalised and recorded as
*declared*. Each action is stamped once, inside its locked transaction, by
:func:`~crypto_analyzer.governance.timeline.action_stamp`: the real clock unless the tenant is a
sandbox. Every event payload records ``workspace_mode`` and ``actor_source``.

Every row is keyed with the service key (``core.service_key``; a governed tenant without one is
refused before anything is read or written, a sandbox writes ``mac`` NULL), each eligibility report
records the context ``audit verify`` needs to re-derive it (``governance.evaluation_inputs``), and
after every commit :func:`~crypto_analyzer.governance.checkpoints.anchor` checkpoints the SQLite WAL
and writes a signed chain-head checkpoint to the artifact store (a failure there is a warning and a
later audit finding, never a rollback of what committed).

``observer`` is called with the name of each step as it completes (``loaded``, ``decided``,
``locked``, ``candidate_inserted``, ``report_written``, ``event_appended``, ``status_updated``);
an exception it raises aborts the action and rolls the transaction back, which is how tests inject
faults and how tracing can hook in without a second code path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.errors import ConfigError, NotFoundError, ValidationError
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.db.record_keys import KEY_FROM_ENVIRONMENT, KeyArgument, engine_key, writer_key
from crypto_analyzer.db.registry import resolve_run_id
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance.bundles import load_bundle
from crypto_analyzer.governance.chain import NewEvent, append_event, governed_transaction
from crypto_analyzer.governance.checkpoints import anchor
from crypto_analyzer.governance.errors import (
    CandidateExistsError,
    ConcurrentChangeError,
    InvalidTransitionError,
    PromotionDenied,
)
from crypto_analyzer.governance.evaluation_inputs import (
    evaluation_context,
    gather,
    record_policy,
)
from crypto_analyzer.governance.outcomes import (
    Evaluation,
    acting_principal,
    check_actor,
    database_error,
    recorded_payload,
)
from crypto_analyzer.governance.policy import Policy, PolicySet
from crypto_analyzer.governance.principals import Principal
from crypto_analyzer.governance.records import CandidateRecord, EventRecord, ReportRecord
from crypto_analyzer.governance.research_history import ResearchHistory
from crypto_analyzer.governance.staleness import (
    Staleness,
    record_restatement_events,
    stale_candidates,
)
from crypto_analyzer.governance.states import GENESIS_STATUS, REVIEW_TARGETS, check_level
from crypto_analyzer.governance.timeline import action_time
from crypto_analyzer.governance.verdict import decide, new_candidate

__all__ = ["Evaluation", "GovernanceService", "check_actor"]

Observer = Callable[[str], None]
Actor = str | Principal


def _history_link(history: ResearchHistory | None) -> dict[str, Any] | None:
    """What the hash-chained event keeps of the history: the ledger head it judged and the digest
    of the whole history document stored in the eligibility report."""
    if history is None:
        return None
    document = history.to_dict()
    return {"digest": sha256_json(document), "ledger": document["ledger"]}


class GovernanceService:
    """Governed actions for one tenant over one database and one artifact store."""

    def __init__(
        self,
        engine: Engine,
        store: ArtifactStore | None,
        *,
        tenant_id: str,
        policy: PolicySet | Policy | None = None,
        observer: Observer | None = None,
        service_key: KeyArgument = KEY_FROM_ENVIRONMENT,
    ) -> None:
        """``service_key`` keys every row written (default: the workspace's configured key)."""
        self._key = engine_key(engine, service_key)
        self._engine = engine
        self._store = store
        self._tenant = tenant_id
        if policy is None or isinstance(policy, PolicySet):
            self._policy = policy
        else:
            self._policy = PolicySet([policy])
        self._observer = observer
        self.anchor_problems: list[str] = []
        """What the last governed write could not anchor (WAL checkpoint, store checkpoint)."""

    @property
    def tenant_id(self) -> str:
        return self._tenant

    @property
    def engine(self) -> Engine:
        return self._engine

    # -- reads -------------------------------------------------------------------------------

    def get(self, candidate_id: str) -> CandidateRecord:
        """The candidate (exact id or unique prefix of ≥ 8 characters)."""
        with self._engine.connect() as connection:
            return self._require(connection, candidate_id)

    def list_candidates(
        self,
        *,
        status: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> list[CandidateRecord]:
        """Candidates of the tenant, newest first, optionally of one status; ``after`` and
        ``limit`` page them (``after`` = ``(created_at, candidate_id)`` of the previous page's
        last candidate)."""
        with self._engine.connect() as connection:
            return repo.list_candidates(
                connection, self._tenant, status=status, after=after, limit=limit
            )

    def reports(self, candidate_id: str) -> list[ReportRecord]:
        with self._engine.connect() as connection:
            full = repo.resolve_candidate_id(connection, self._tenant, candidate_id)
            return repo.list_reports(connection, self._tenant, full)

    def events(self, candidate_id: str) -> list[EventRecord]:
        with self._engine.connect() as connection:
            full = repo.resolve_candidate_id(connection, self._tenant, candidate_id)
            return repo.list_events(connection, self._tenant, full)

    # -- create ------------------------------------------------------------------------------

    def create(
        self, *, run_instance_id: str, signal: str, horizon: int, actor: Actor
    ) -> CandidateRecord:
        """Register (run, signal, horizon) as ``exploratory``, pinned to its evidence digest."""
        principal = acting_principal(actor, "create")
        actor = principal.principal_id
        if not isinstance(signal, str) or not signal.strip():
            raise ValidationError(f"signal {signal!r} is empty", "pass --signal NAME")
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            raise ValidationError(f"horizon must be an integer ≥ 1 (bars), got {horizon!r}")
        store = self._require_store()
        run_id = resolve_run_id(self._engine, self._tenant, run_instance_id)
        with self._engine.connect() as connection:
            self._check_key(connection)
            run = repo.run_row(connection, self._tenant, run_id)
            if run is None:  # resolve_run_id found it; only a concurrent tenant change gets here
                raise NotFoundError(f"run {run_id} does not exist in tenant {self._tenant!r}")
            loaded = load_bundle(connection, store, self._tenant, run_id, signal)
        if loaded.bundle.horizon(horizon) is None:
            found = ", ".join(str(item.horizon) for item in loaded.bundle.horizons)
            raise ValidationError(
                f"the bundle of {signal!r} in run {run_id} has no horizon {horizon}",
                f"choose one of: {found}",
            )
        self._step("loaded")
        candidate = new_candidate(
            self._tenant,
            run_instance_id=run_id,
            run_key=run["run_key"],
            dataset_id=run["dataset_id"],
            signal=signal,
            horizon=horizon,
            evidence_digest=loaded.evidence_digest,
            actor=actor,
        )
        with self._write() as connection:
            self._step("locked")
            mode, stamp = action_time(connection, self._tenant)
            candidate = replace(candidate, created_at=stamp, updated_at=stamp)
            existing = repo.find_candidate(connection, self._tenant, run_id, signal, horizon)
            if existing is not None:
                raise CandidateExistsError(
                    f"candidate {existing.candidate_id} already exists for run {run_id}, "
                    f"signal {signal!r}, horizon {horizon} (status {existing.status})",
                    f"use `crypto-analyzer promotion show {existing.candidate_id}`",
                )
            repo.insert_candidate(connection, candidate)
            self._step("candidate_inserted")
            payload = {
                "bundle": {"sha256": loaded.sha256, "uri": loaded.uri},
                "evidence_digest": loaded.evidence_digest,
                "horizon": horizon,
                "run_instance_id": run_id,
                "signal": signal,
            }
            payload = recorded_payload(payload, mode, principal)
            event = NewEvent(
                candidate.candidate_id, "created", actor, payload, None, GENESIS_STATUS
            )
            append_event(connection, self._tenant, event, created_at=stamp, key=self._key)
            self._step("event_appended")
        return candidate

    # -- evaluate / promote ------------------------------------------------------------------

    def evaluate(
        self,
        candidate_id: str,
        *,
        target: str,
        actor: Actor,
        origin: Mapping[str, str] | None = None,
    ) -> Evaluation:
        """Judge the candidate's evidence at level ``target`` and record the outcome.

        Always writes a report and an event; moves the status to ``target`` only when the policy
        allows and ``status -> target`` is an allowed edge. Re-evaluating the current level records
        a new report and changes nothing else. ``origin`` (e.g. the CI run that asked) is recorded
        on the event as given.
        """
        level = check_level(target)
        principal = acting_principal(actor, f"evaluate:{level}")
        actor = principal.principal_id
        policy = self._require_policy()
        with self._engine.connect() as connection:
            self._check_key(connection)
            candidate = self._require(connection, candidate_id)
            inputs = gather(
                connection, self._store, self._tenant, candidate, policy.history, self._key
            )
        policy_document = record_policy(self._store, policy)
        loaded, history, staleness = inputs.loaded, inputs.history, inputs.staleness
        self._step("loaded")
        ctx = evaluation_context(self._tenant, actor, inputs, self._store)
        evidence = None if loaded is None else loaded.bundle
        decision = decide(policy, candidate, evidence, level, ctx)
        self._step("decided")
        with self._write() as connection:
            current = repo.get_candidate(
                connection, self._tenant, candidate.candidate_id, for_update=True
            )
            if current != candidate:
                raise ConcurrentChangeError(
                    f"candidate {candidate.candidate_id} changed while it was being evaluated",
                    "evaluate it again",
                )
            self._step("locked")
            mode, stamp = action_time(connection, self._tenant)
            if staleness is not None:
                record_restatement_events(
                    connection,
                    self._tenant,
                    staleness,
                    actor,
                    stamp,
                    lambda payload: recorded_payload(payload, mode, principal),
                    key=self._key,
                )
            number = repo.count_reports(connection, self._tenant, candidate.candidate_id)
            report = repo.insert_report(
                connection,
                tenant_id=self._tenant,
                report_id="rep_"
                + sha256_json(
                    {"candidate": candidate.candidate_id, "n": number, "tenant": self._tenant}
                )[:16],
                candidate_id=candidate.candidate_id,
                level=level,
                passed=decision.allowed,
                evidence_digest=ctx.evidence_digest or "",
                policy_id=decision.policy_id,
                policy_digest=decision.policy_digest,
                reasons=[reason.to_dict() for reason in decision.reasons],
                warnings=[warning.to_dict() for warning in decision.warnings],
                actor=actor,
                created_at=stamp,
                history=None if history is None else history.to_dict(),
                context=inputs.context(policy_document),
                key=self._key,
            )
            self._step("report_written")
            change = decision.allowed and candidate.status != level
            payload = {
                "bundle": None if loaded is None else {"sha256": loaded.sha256, "uri": loaded.uri},
                "evidence_digest": ctx.evidence_digest,
                "history": _history_link(history),
                "level": level,
                "passed": decision.allowed,
                "policy": {
                    "digest": decision.policy_digest,
                    "id": decision.policy_id,
                    "members": policy.member_digests(),
                },
                "rules": list(decision.rules),
            }
            if origin:
                payload["origin"] = dict(origin)
            event = append_event(
                connection,
                self._tenant,
                NewEvent(
                    candidate_id=candidate.candidate_id,
                    event_type="promoted" if change else "evaluated",
                    actor=actor,
                    payload=recorded_payload(payload, mode, principal),
                    from_status=candidate.status,
                    to_status=level if change else None,
                    report_id=report.report_id,
                ),
                created_at=stamp,
                key=self._key,
            )
            self._step("event_appended")
            after = candidate
            if change:
                repo.update_status(
                    connection,
                    candidate,
                    status=level,
                    report_id=report.report_id,
                    reason=None,
                    updated_at=stamp,
                )
                after = replace(
                    candidate,
                    status=level,
                    eligibility_report_id=report.report_id,
                    status_reason=None,
                    updated_at=stamp,
                )
                self._step("status_updated")
        return Evaluation(after, candidate.status, report, event, decision)

    def promote(
        self,
        candidate_id: str,
        *,
        target: str,
        actor: Actor,
        origin: Mapping[str, str] | None = None,
    ) -> Evaluation:
        """Evaluate, and raise :class:`PromotionDenied` unless the candidate now holds ``target``.

        The report and event of a denied promotion are committed before the error is raised: a
        refusal is part of the record.
        """
        outcome = self.evaluate(candidate_id, target=target, actor=actor, origin=origin)
        if outcome.candidate.status != target:
            reasons = "; ".join(str(reason) for reason in outcome.decision.reasons)
            raise PromotionDenied(
                f"candidate {outcome.candidate.candidate_id} was not promoted to {target}: "
                f"{reasons or 'no reason given'}",
                f"see report {outcome.report.report_id}",
                report_id=outcome.report.report_id,
            )
        return outcome

    # -- restatements ------------------------------------------------------------------------

    def record_restatements(self, *, actor: Actor) -> list[EventRecord]:
        """Record each not yet recorded restatement under every open or accepted candidate.

        Called after market data is written (ingest, import, materialize) so the trail says when
        the data under a decision moved; evaluation records them too. No status changes.
        """
        principal = acting_principal(actor, "record_restatements")
        recorded: list[EventRecord] = []
        with self._write() as connection:
            self._step("locked")
            mode, stamp = action_time(connection, self._tenant)
            for staleness in stale_candidates(connection, self._tenant):
                recorded.extend(
                    record_restatement_events(
                        connection,
                        self._tenant,
                        staleness,
                        principal.principal_id,
                        stamp,
                        lambda payload: recorded_payload(payload, mode, principal),
                        key=self._key,
                    )
                )
        return recorded

    def staleness(self) -> list[Staleness]:
        """Every open or accepted candidate with what was restated under it (read-only)."""
        with self._engine.connect() as connection:
            return stale_candidates(connection, self._tenant)

    # -- reproductions -----------------------------------------------------------------------

    def record_reproduction(
        self, candidate_id: str, *, result: dict[str, Any], actor: Actor
    ) -> EventRecord:
        """Append a ``reproduced`` event (who, when, ``result``) to the candidate; no status
        changes. ``result`` is what the reproduction found (run, engines, artifact comparison)."""
        principal = acting_principal(actor, "record_reproduction")
        with self._write() as connection:
            full = repo.resolve_candidate_id(connection, self._tenant, candidate_id)
            self._step("locked")
            mode, stamp = action_time(connection, self._tenant)
            event = NewEvent(
                full,
                "reproduced",
                principal.principal_id,
                recorded_payload(result, mode, principal),
            )
            recorded = append_event(
                connection, self._tenant, event, created_at=stamp, key=self._key
            )
            self._step("event_appended")
        return recorded

    # -- reviewer actions --------------------------------------------------------------------

    def reject(self, candidate_id: str, *, reason: str, actor: Actor) -> CandidateRecord:
        """Reviewer rejection (terminal) from ``exploratory`` or ``candidate``."""
        return self._review(candidate_id, "rejected", reason, actor)

    def revoke(self, candidate_id: str, *, reason: str, actor: Actor) -> CandidateRecord:
        """Withdraw an ``accepted`` candidate (terminal); the reason is recorded."""
        return self._review(candidate_id, "revoked", reason, actor)

    def _review(self, candidate_id: str, target: str, reason: str, actor: Actor) -> CandidateRecord:
        principal = acting_principal(actor, "reject" if target == "rejected" else "revoke")
        actor = principal.principal_id
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError(f"{target} needs a reason", "pass --reason TEXT")
        with self._write() as connection:
            full = repo.resolve_candidate_id(connection, self._tenant, candidate_id)
            current = repo.get_candidate(connection, self._tenant, full, for_update=True)
            if current is None:  # resolved a moment ago inside the same locked transaction
                raise NotFoundError(f"candidate {full} does not exist")
            self._step("locked")
            if current.status not in REVIEW_TARGETS[target]:
                allowed = " or ".join(REVIEW_TARGETS[target])
                raise InvalidTransitionError(
                    f"candidate {full} is {current.status}; only {allowed} candidates can be "
                    f"{target}",
                    "accepted candidates are revoked, not rejected"
                    if current.status == "accepted"
                    else "rejected and revoked are terminal",
                )
            mode, stamp = action_time(connection, self._tenant)
            record = recorded_payload({"reason": reason}, mode, principal)
            append_event(
                connection,
                self._tenant,
                NewEvent(full, target, actor, record, current.status, target),
                created_at=stamp,
                key=self._key,
            )
            self._step("event_appended")
            repo.update_status(
                connection,
                current,
                status=target,
                report_id=current.eligibility_report_id,
                reason=reason,
                updated_at=stamp,
            )
            self._step("status_updated")
        return replace(current, status=target, status_reason=reason, updated_at=stamp)

    # -- helpers -----------------------------------------------------------------------------

    def _step(self, name: str) -> None:
        if self._observer is not None:
            self._observer(name)

    def _require(self, connection: Connection, candidate_id: str) -> CandidateRecord:
        full = repo.resolve_candidate_id(connection, self._tenant, candidate_id)
        found = repo.get_candidate(connection, self._tenant, full)
        if found is None:
            raise NotFoundError(f"candidate {full} does not exist in tenant {self._tenant!r}")
        return found

    def _require_store(self) -> ArtifactStore:
        if self._store is None:
            raise ConfigError(
                "this action reads validation bundles but no artifact store is configured",
                "set CRYPTO_ANALYZER_ARTIFACTS",
            )
        return self._store

    def _require_policy(self) -> PolicySet:
        if self._policy is None:
            raise ConfigError(
                "evaluation needs a policy but the service was opened without one",
                "open the service with a policy set (load_policy_set)",
            )
        return self._policy

    def _check_key(self, connection: Connection) -> None:
        """Refuse before any work when a governed tenant has no service key (fail closed)."""
        writer_key(connection, self._tenant, self._key, what="a governed write")

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """``governed_transaction`` with database refusals turned into governance errors; after
        the commit, the WAL and the chain heads are anchored (:func:`anchor`)."""
        try:
            with governed_transaction(self._engine, self._tenant) as connection:
                self._check_key(connection)
                yield connection
        except sa.exc.DBAPIError as exc:
            raise database_error(exc) from exc
        self.anchor_problems = anchor(self._engine, self._store, self._tenant, self._key)
