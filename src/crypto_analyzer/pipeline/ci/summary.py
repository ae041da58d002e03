"""What a CI job reports about a run: every candidate's latest decision, rule by rule.

:func:`summarize_run` reads, for each promotion candidate made from the run, its latest eligibility
report and the event that recorded it (which lists every rule the policy evaluated), plus the
run's envelopes (signed or not, by which key). Read-only: CI reports what governance decided, it
never decides itself (``ci promote`` asks the governance service, like any other interface).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from crypto_analyzer.artifacts import ArtifactStore, open_settings_store
from crypto_analyzer.attest.dsse import Envelope, EnvelopeError
from crypto_analyzer.attest.statement import ENVELOPE_PREFIX
from crypto_analyzer.core.errors import NotFoundError
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.migrate import require_head
from crypto_analyzer.db.registry import resolve_run_id
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance.bundles import store_key
from crypto_analyzer.governance.records import CandidateRecord

__all__ = ["CandidateOutcome", "EnvelopeInfo", "RuleOutcome", "RunSummary", "summarize_run"]

SUMMARY_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One policy rule for one candidate: passed or not, and what it said."""

    rule: str
    passed: bool
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reasons": list(self.reasons),
            "rule": self.rule,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class CandidateOutcome:
    """A candidate of the run and its latest decision (``report_id`` None: never evaluated)."""

    candidate_id: str
    signal: str
    horizon: int
    status: str
    level: str | None
    passed: bool | None
    report_id: str | None
    policy_id: str | None
    policy_digest: str | None
    rules: tuple[RuleOutcome, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate_id": self.candidate_id,
            "horizon": self.horizon,
            "level": self.level,
            "passed": self.passed,
            "policy_digest": self.policy_digest,
            "policy_id": self.policy_id,
            "report_id": self.report_id,
            "rules": [rule.to_dict() for rule in self.rules],
            "signal": self.signal,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class EnvelopeInfo:
    """One envelope the run wrote: whether it is signed and by which key ids (not verified)."""

    name: str
    sha256: str
    signed: bool
    key_ids: tuple[str, ...]
    readable: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_ids": list(self.key_ids),
            "name": self.name,
            "readable": self.readable,
            "sha256": self.sha256,
            "signed": self.signed,
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The run and its candidates' decisions."""

    tenant_id: str
    run_instance_id: str
    run_key: str
    dataset_id: str
    status: str
    candidates: tuple[CandidateOutcome, ...]
    envelopes: tuple[EnvelopeInfo, ...]

    @property
    def denied(self) -> bool:
        """True when some candidate's latest decision denied."""
        return any(candidate.passed is False for candidate in self.candidates)

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidates": [candidate.to_dict() for candidate in self.candidates],
            "dataset_id": self.dataset_id,
            "denied": self.denied,
            "envelopes": [envelope.to_dict() for envelope in self.envelopes],
            "run_instance_id": self.run_instance_id,
            "run_key": self.run_key,
            "schema_version": SUMMARY_SCHEMA_VERSION,
            "status": self.status,
            "tenant_id": self.tenant_id,
        }


def _outcome(connection: Connection, candidate: CandidateRecord) -> CandidateOutcome:
    tenant = candidate.tenant_id
    reports = repo.list_reports(connection, tenant, candidate.candidate_id)
    if not reports:
        return CandidateOutcome(
            candidate.candidate_id, candidate.signal, candidate.horizon, candidate.status,
            None, None, None, None, None, (),
        )  # fmt: skip
    report = reports[-1]
    events = repo.list_events(connection, tenant, candidate.candidate_id)
    event = next((item for item in events if item.report_id == report.report_id), None)
    payload = event.payload if event is not None else None
    listed = payload.get("rules") if isinstance(payload, dict) else None
    names: list[str] = [str(rule) for rule in listed] if isinstance(listed, list) else []
    denials: dict[str, list[str]] = {}
    notes: dict[str, list[str]] = {}
    for target, items in ((denials, report.reasons), (notes, report.warnings)):
        for item in items:
            rule = str(item.get("rule", "policy"))
            target.setdefault(rule, []).append(str(item.get("message", "")))
            if rule not in names:
                names.append(rule)
    rules = tuple(
        RuleOutcome(
            rule,
            rule not in denials,
            tuple(denials.get(rule, ())),
            tuple(notes.get(rule, ())),
        )
        for rule in names
    )
    return CandidateOutcome(
        candidate.candidate_id, candidate.signal, candidate.horizon, candidate.status,
        report.level, report.passed, report.report_id, report.policy_id, report.policy_digest,
        rules,
    )  # fmt: skip


def _envelopes(
    connection: Connection, store: ArtifactStore, tenant_id: str, run_instance_id: str
) -> tuple[EnvelopeInfo, ...]:
    found = []
    for row in repo.lineage_rows(connection, tenant_id, run_instance_id):
        name = str(row["logical_name"])
        if not name.startswith(ENVELOPE_PREFIX):
            continue
        try:
            envelope = Envelope.from_bytes(store.get(store_key(store, row["uri"])), source=name)
        except (EnvelopeError, Exception):  # listed as unreadable; verification is governance's
            found.append(EnvelopeInfo(name, row["artifact_sha256"], False, (), False))
            continue
        keys = tuple(signature.keyid for signature in envelope.signatures)
        found.append(EnvelopeInfo(name, row["artifact_sha256"], envelope.signed, keys, True))
    return tuple(found)


def summarize_run(settings: Settings, run: str) -> RunSummary:
    """The summary of run ``run`` (exact id or unique prefix) in the configured tenant."""
    tenant = settings.tenant
    store = open_settings_store(settings)
    with open_engine(settings, read_only=True) as engine:
        require_head(engine)
        run_id = resolve_run_id(engine, tenant, run)
        with engine.connect() as connection:
            row = repo.run_row(connection, tenant, run_id)
            if row is None:
                raise NotFoundError(f"run {run_id} does not exist in tenant {tenant!r}")
            candidates = [
                item
                for item in repo.list_candidates(connection, tenant)
                if item.run_instance_id == run_id
            ]
            candidates.sort(key=lambda item: (item.signal, item.horizon, item.candidate_id))
            outcomes = tuple(_outcome(connection, item) for item in candidates)
            envelopes = _envelopes(connection, store, tenant, run_id)
    return RunSummary(
        tenant_id=tenant,
        run_instance_id=run_id,
        run_key=str(row["run_key"]),
        dataset_id=str(row["dataset_id"]),
        status=str(row["status"]),
        candidates=outcomes,
        envelopes=envelopes,
    )
