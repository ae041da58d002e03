"""Audit: verify the whole governance record of a tenant against evidence outside the database.

``verify`` assumes nothing is trustworthy (DESIGN §3 invariants 4, 5, 10, 12). It

* recomputes the tenant's event hash chain (and the chain's timestamps and recorded workspace
  modes, ``governance.timeline``) and trial-ledger hash chain (and that every eligibility report's
  judged ledger head is still in the ledger);
* checks every row's MAC with the service key (``governance.record_macs``): a row written by
  anyone with only database rights is named;
* checks the database against the signed chain-head checkpoints in the artifact store
  (``governance.checkpoint_audit``): a truncated or rewritten history, or a dropped SQLite WAL,
  is named by the checkpoint it contradicts;
* re-derives every decision from the stored policy document, the bundle, the ledger prefix and the
  market watermark it recorded (``governance.rederive``) and replays every candidate's events
  through the state machine (``governance.replay``);
* checks that every trigger the migrations create is present and unaltered, cross-checks statuses,
  reports and events, re-hashes every lineage artifact, compares every run's lineage with its
  manifest and lists store files no lineage references (``governance.lineage_audit``), and checks
  that accepted candidates have complete lineage.

It never writes. ``trace_candidate`` (``governance.trace``) is re-exported here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.hashing import GENESIS_HASH, sha256_bytes
from crypto_analyzer.core.service_key import ServiceKey
from crypto_analyzer.db.health import expected_triggers, trigger_findings
from crypto_analyzer.db.market_history import current_watermark
from crypto_analyzer.db.migrate import schema_status
from crypto_analyzer.db.record_keys import KEY_FROM_ENVIRONMENT, KeyArgument, engine_key
from crypto_analyzer.db.row_security import row_security_findings
from crypto_analyzer.db.trial_ledger import TrialRecord, read_trials, verify_ledger
from crypto_analyzer.db.workspace_mode import WorkspaceMode, read_mode
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance.bundles import load_bundle, store_key
from crypto_analyzer.governance.chain import verify_chain
from crypto_analyzer.governance.checkpoint_audit import audit_checkpoints
from crypto_analyzer.governance.errors import EvidenceError
from crypto_analyzer.governance.evidence import bundle_logical_name
from crypto_analyzer.governance.lineage_audit import Orphan, audit_run_lineage
from crypto_analyzer.governance.record_macs import audit_macs
from crypto_analyzer.governance.records import CandidateRecord, EventRecord, ReportRecord
from crypto_analyzer.governance.rederive import rederive_reports
from crypto_analyzer.governance.replay import replay_findings
from crypto_analyzer.governance.staleness import stale_candidates
from crypto_analyzer.governance.timeline import timeline_findings
from crypto_analyzer.governance.trace import trace_candidate

__all__ = ["AuditFinding", "VerifyReport", "trace_candidate", "verify_workspace"]


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """Something that does not hold: which check found it and what exactly is wrong."""

    check: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "message": self.message}


@dataclass(slots=True)
class VerifyReport:
    """All findings of ``audit verify`` plus how much was looked at."""

    tenant_id: str
    findings: list[AuditFinding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    orphans: list[Orphan] = field(default_factory=list)  # debris, not tampering: ok stays True
    warnings: list[AuditFinding] = field(default_factory=list)
    """Things a reader must know that do not fail the audit (stale results under ``warn``)."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, check: str, message: str) -> None:
        self.findings.append(AuditFinding(check, message))

    def warn(self, check: str, message: str) -> None:
        self.warnings.append(AuditFinding(check, message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked": dict(sorted(self.checked.items())),
            "findings": [finding.to_dict() for finding in self.findings],
            "ok": self.ok,
            "orphans": [orphan.to_dict() for orphan in self.orphans],
            "tenant_id": self.tenant_id,
            "warnings": [warning.to_dict() for warning in self.warnings],
        }


def verify_workspace(
    engine: Engine,
    store: ArtifactStore | None,
    tenant_id: str,
    *,
    on_restatement: str = "require_reevaluation",
    service_key: KeyArgument = KEY_FROM_ENVIRONMENT,
    checkpoints: int | None = None,
) -> VerifyReport:
    """Run every audit check for ``tenant_id``; the report lists each finding.

    Candidate and accepted results whose market data was restated after their run are findings
    when the policy requires re-evaluation (``on_restatement``), warnings when it only warns.
    ``service_key`` checks the MACs and checkpoints (default: the workspace's configured key);
    ``checkpoints`` limits the checkpoint check to the newest N files (default: all).
    """
    key = engine_key(engine, service_key)
    report = VerifyReport(tenant_id)
    with engine.connect() as connection:
        events = repo.list_events(connection, tenant_id)
        candidates = repo.list_candidates(connection, tenant_id)
        reports = {
            item.report_id: item
            for candidate in candidates
            for item in repo.list_reports(connection, tenant_id, candidate.candidate_id)
        }
        report.checked.update(events=len(events), candidates=len(candidates), reports=len(reports))
        for message in verify_chain(events):
            report.add("chain", message)
        trials = read_trials(connection, tenant_id)
        report.checked["trials"] = len(trials)
        for message in verify_ledger(trials):
            report.add("ledger", message)
        _check_judged_heads(report, reports, trials)
        mode = read_mode(connection, tenant_id)
        for check, message in timeline_findings(events, mode):
            report.add(check, message)
        _check_keyed(report, connection, store, key, mode, events, reports, trials, checkpoints)
        report.checked["triggers"] = len(expected_triggers(connection.dialect.name))
        status = schema_status(engine)
        if status.at_head:
            for finding in trigger_findings(connection):
                report.add("triggers", finding.message)
            for message in row_security_findings(connection):
                report.add("row_security", message)
        else:
            report.add(
                "triggers",
                f"schema at revision {status.current}, head {status.head}: triggers are compared "
                "at head only; run `crypto-analyzer db upgrade`",
            )
        _check_consistency(report, candidates, reports, events)
        for message in replay_findings(candidates, reports, events):
            report.add("consistency", message)
        rederived = rederive_reports(connection, store, tenant_id, candidates, reports, events)
        report.checked["rederived"] = rederived.checked
        for message in rederived.findings:
            report.add("rederive", message)
        for message in rederived.warnings:
            report.warn("rederive", message)
        lineage = repo.lineage_rows(connection, tenant_id)
        report.checked["artifacts"] = len(lineage)
        _check_artifacts(report, store, lineage)
        runs_audit = audit_run_lineage(connection, store, tenant_id)
        for check, message in runs_audit.findings:
            report.add(check, message)
        report.orphans.extend(runs_audit.orphans)
        report.checked.update(runs_audit.checked)
        _check_stale(report, connection, tenant_id, on_restatement)
        accepted = [item for item in candidates if item.status == "accepted"]
        report.checked["accepted"] = len(accepted)
        for candidate in accepted:
            _check_lineage(report, connection, store, candidate)
    return report


def _check_keyed(
    report: VerifyReport,
    connection: Connection,
    store: ArtifactStore | None,
    key: ServiceKey | None,
    mode: WorkspaceMode,
    events: list[EventRecord],
    reports: dict[str, ReportRecord],
    trials: list[TrialRecord],
    limit: int | None,
) -> None:
    """Service-key MACs on every row, and the database against the signed checkpoints."""
    macs = audit_macs(key, mode, events, list(reports.values()), trials)
    report.checked["macs"] = macs.checked
    for message in macs.findings:
        report.add("mac", message)
    for message in macs.warnings:
        report.warn("mac", message)
    watermark = current_watermark(connection, report.tenant_id)
    anchored = audit_checkpoints(
        store, key, report.tenant_id, mode, events, trials, watermark, limit=limit
    )
    report.checked["checkpoints"] = anchored.checked
    for message in anchored.findings:
        report.add("checkpoint", message)
    for message in anchored.warnings:
        report.warn("checkpoint", message)


def _check_consistency(
    report: VerifyReport,
    candidates: list[CandidateRecord],
    reports: dict[str, ReportRecord],
    events: list[EventRecord],
) -> None:
    """Statuses, reports and events must agree; each reached status has exactly one event."""
    by_candidate: dict[str, list[EventRecord]] = {}
    for event in events:
        if event.candidate_id is not None:
            by_candidate.setdefault(event.candidate_id, []).append(event)
    referenced = Counter(event.report_id for event in events if event.report_id is not None)
    for report_id in sorted(set(referenced) - set(reports)):
        report.add("consistency", f"events reference report {report_id}, which does not exist")
    for report_id, record in sorted(reports.items()):
        count = referenced.get(report_id, 0)
        if count != 1:
            report.add(
                "consistency",
                f"report {report_id} of candidate {record.candidate_id} is referenced by {count} "
                "events (expected exactly 1)",
            )
    for candidate in candidates:
        own = by_candidate.get(candidate.candidate_id, [])
        reached = Counter(event.to_status for event in own if event.to_status is not None)
        label = f"candidate {candidate.candidate_id} ({candidate.status})"
        for status, count in sorted(reached.items()):
            if count != 1:
                report.add("consistency", f"{label}: {count} events reach status {status}")
        if reached.get(candidate.status, 0) == 0:
            report.add("consistency", f"{label}: no event records reaching its current status")
        if candidate.status in ("candidate", "accepted"):
            linked = reports.get(candidate.eligibility_report_id or "")
            if linked is None:
                report.add("consistency", f"{label}: linked report is missing")
            elif not (
                linked.passed
                and linked.level == candidate.status
                and linked.candidate_id == candidate.candidate_id
                and linked.evidence_digest == candidate.evidence_digest
            ):
                report.add(
                    "consistency",
                    f"{label}: linked report {linked.report_id} does not justify the status "
                    f"(passed={linked.passed}, level={linked.level}, "
                    f"candidate={linked.candidate_id})",
                )


def _check_stale(
    report: VerifyReport, connection: Connection, tenant_id: str, on_restatement: str
) -> None:
    """Candidate and accepted results whose data was restated since their run read it."""
    judged = stale_candidates(connection, tenant_id, statuses=("candidate", "accepted"))
    report.checked["stale_checked"] = len(judged)
    record = report.add if on_restatement == "require_reevaluation" else report.warn
    for item in judged:
        label = f"{item.candidate.status} candidate {item.candidate.candidate_id}"
        if item.problem is not None:
            report.warn("stale", f"{label}: {item.problem}")
        elif item.stale:
            record("stale", f"{label} (run {item.candidate.run_instance_id}): {item.describe()}")


def _check_judged_heads(
    report: VerifyReport, reports: dict[str, ReportRecord], trials: list[TrialRecord]
) -> None:
    """Every eligibility report names the ledger head it judged; that head must still be there.

    A ledger rewritten after a decision (trials removed, edited and re-chained) no longer has the
    recorded hash at the recorded size, even when its own chain verifies.
    """
    hashes = {trial.seq: trial.hash for trial in trials}
    for report_id, record in sorted(reports.items()):
        ledger = (record.history or {}).get("ledger")
        if not isinstance(ledger, dict):
            continue
        size, head = ledger.get("size"), ledger.get("hash")
        expected = GENESIS_HASH if size == 0 else hashes.get(int(size) - 1) if size else None
        if expected != head:
            report.add(
                "ledger",
                f"report {report_id} of candidate {record.candidate_id} judged the trial ledger at "
                f"size {size} with head {str(head)[:16]}…, which the ledger no longer has — "
                "trials were removed or rewritten after the decision",
            )


def _check_artifacts(
    report: VerifyReport, store: ArtifactStore | None, lineage: list[dict[str, Any]]
) -> None:
    if not lineage:
        return
    if store is None:
        report.add("artifacts", "no artifact store configured; artifact hashes were not checked")
        return
    for row in lineage:
        label = f"artifact {row['logical_name']!r} of run {row['run_instance_id']}"
        try:
            data = store.get(store_key(store, row["uri"]))
        except Exception as exc:  # every failure to read is a finding, never a crash
            report.add("artifacts", f"{label}: cannot be read ({exc})")
            continue
        digest = sha256_bytes(data)
        if digest != row["artifact_sha256"]:
            report.add(
                "artifacts",
                f"{label}: stored bytes hash to {digest[:16]}…, lineage recorded "
                f"{row['artifact_sha256'][:16]}…",
            )
        elif len(data) != int(row["size_bytes"]):
            report.add("artifacts", f"{label}: {len(data)} bytes stored, lineage recorded "
                                    f"{row['size_bytes']}")  # fmt: skip


def _check_lineage(
    report: VerifyReport,
    connection: Connection,
    store: ArtifactStore | None,
    candidate: CandidateRecord,
) -> None:
    """An accepted candidate's run, bundle, evidence artifacts and edges must all be recorded."""
    label = f"accepted candidate {candidate.candidate_id}"
    tenant = candidate.tenant_id
    run = repo.run_row(connection, tenant, candidate.run_instance_id)
    if run is None:
        report.add("lineage", f"{label}: run {candidate.run_instance_id} is missing")
    elif (run["run_key"], run["dataset_id"]) != (candidate.run_key, candidate.dataset_id):
        report.add(
            "lineage", f"{label}: run_key/dataset_id differ from run {run['run_instance_id']}"
        )
    rows = {
        row["logical_name"]: row
        for row in repo.lineage_rows(connection, tenant, candidate.run_instance_id)
    }
    edges = {
        (edge["src_name"], edge["edge_type"], edge["dst_ref"])
        for edge in repo.lineage_edges(connection, tenant, candidate.run_instance_id)
    }
    name = bundle_logical_name(candidate.signal)
    if name not in rows:
        report.add("lineage", f"{label}: no lineage row {name!r}")
        return
    if (name, "uses_dataset", candidate.dataset_id) not in edges:
        report.add("lineage", f"{label}: {name!r} has no uses_dataset edge to its dataset")
    if store is None:
        return
    try:
        loaded = load_bundle(connection, store, tenant, candidate.run_instance_id, candidate.signal)
    except EvidenceError as exc:
        report.add("lineage", f"{label}: {exc}")
        return
    if loaded.evidence_digest != candidate.evidence_digest:
        report.add("lineage", f"{label}: bundle digest differs from the candidate's")
    for artifact in loaded.bundle.artifacts:
        row = rows.get(artifact.name)
        if row is None:
            report.add(
                "lineage", f"{label}: evidence artifact {artifact.name!r} has no lineage row"
            )
        elif row["artifact_sha256"] != artifact.sha256:
            report.add(
                "lineage", f"{label}: lineage hash of {artifact.name!r} differs from the bundle"
            )
    attestation = loaded.bundle.attestation
    attested = any(src == attestation.name and kind == "attests" for src, kind, _ in edges)
    if attestation.present and not attested:
        report.add("lineage", f"{label}: attestation {attestation.name!r} has no attests edge")
