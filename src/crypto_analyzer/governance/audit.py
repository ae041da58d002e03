"""Audit: reconstruct a candidate's history from the database, and verify the whole record.

``trace`` reads only the database (candidate → reports → events → run → dataset → artifacts →
lineage), so an auditor can answer "why is this accepted?" without trusting any file. ``verify``
assumes nothing is trustworthy: it recomputes the tenant's event hash chain (and checks the
chain's timestamps and recorded workspace modes, ``governance.timeline``) and trial-ledger hash
chain (and that every eligibility report's judged ledger head is still in the ledger), checks that
every trigger the migrations create is present and unaltered (definition, table, enabled state
and, on PostgreSQL, the trigger function), cross-checks statuses, reports and events against each
other (which exposes a deleted *last* event the chain alone cannot), re-hashes every lineage
artifact in the store, compares every run's lineage rows and edges with the run's manifest and
lists store files no lineage references (``governance.lineage_audit``), and checks that accepted
candidates have complete lineage. It never writes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.canonical_json import CanonicalJSONError, canonical_loads
from crypto_analyzer.core.errors import NotFoundError
from crypto_analyzer.core.hashing import GENESIS_HASH, sha256_bytes
from crypto_analyzer.core.identities import DatasetId
from crypto_analyzer.db.health import expected_triggers, trigger_findings
from crypto_analyzer.db.migrate import schema_status
from crypto_analyzer.db.schema import run_artifacts
from crypto_analyzer.db.trial_ledger import TrialRecord, read_trials, verify_ledger
from crypto_analyzer.db.workspace_mode import read_mode
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance.bundles import load_bundle, store_key
from crypto_analyzer.governance.chain import verify_chain
from crypto_analyzer.governance.errors import EvidenceError
from crypto_analyzer.governance.evidence import bundle_logical_name
from crypto_analyzer.governance.lineage_audit import Orphan, audit_run_lineage
from crypto_analyzer.governance.records import CandidateRecord, EventRecord, ReportRecord
from crypto_analyzer.governance.staleness import stale_candidates
from crypto_analyzer.governance.timeline import timeline_findings

__all__ = ["AuditFinding", "VerifyReport", "trace_candidate", "verify_workspace"]


def trace_candidate(engine: Engine, tenant_id: str, candidate_id: str) -> dict[str, Any]:
    """Everything the database knows about one candidate, as canonical-JSON-ready data."""
    with engine.connect() as connection:
        full = repo.resolve_candidate_id(connection, tenant_id, candidate_id)
        candidate = repo.get_candidate(connection, tenant_id, full)
        if candidate is None:
            raise NotFoundError(f"candidate {full} does not exist in tenant {tenant_id!r}")
        run = repo.run_row(connection, tenant_id, candidate.run_instance_id)
        reports = repo.list_reports(connection, tenant_id, full)
        events = repo.list_events(connection, tenant_id, full)
        lineage = repo.lineage_rows(connection, tenant_id, candidate.run_instance_id)
        edges = repo.lineage_edges(connection, tenant_id, candidate.run_instance_id)
        files = connection.execute(
            sa.select(run_artifacts)
            .where(
                run_artifacts.c.tenant_id == tenant_id,
                run_artifacts.c.run_instance_id == candidate.run_instance_id,
            )
            .order_by(run_artifacts.c.name)
        ).mappings()
        run_files = [dict(row) for row in files]
    try:
        dataset = DatasetId.parse(candidate.dataset_id)
        dataset_info: dict[str, Any] = {
            "dataset_id": dataset.value,
            "mode": dataset.mode.value,
            "short": dataset.short,
        }
    except ValueError:
        dataset_info = {"dataset_id": candidate.dataset_id, "mode": "unparseable", "short": None}
    bundle_name = bundle_logical_name(candidate.signal)
    return {
        "candidate": candidate.to_dict(),
        "dataset": dataset_info,
        "edges": edges,
        "events": [event.to_dict() for event in events],
        "lineage": [
            {**row, "is_bundle": row["logical_name"] == bundle_name}
            for row in (_json_safe(row) for row in lineage)
        ],
        "linked_report_id": candidate.eligibility_report_id,
        "reports": [report.to_dict() for report in reports],
        "run": None if run is None else _run_view(run),
        "run_artifacts": [_json_safe(row) for row in run_files],
        "tenant_id": tenant_id,
    }


def _json_safe(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (int(value) if key in ("size_bytes", "seq") else value) for key, value in row.items()
    }


def _run_view(run: dict[str, Any]) -> dict[str, Any]:
    view = {key: value for key, value in run.items() if key not in ("config_json", "tags_json")}
    for key in ("config_json", "tags_json"):
        try:
            view[key.removesuffix("_json")] = canonical_loads(run[key])
        except (CanonicalJSONError, ValueError):
            view[key.removesuffix("_json")] = run[key]
    return view


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
) -> VerifyReport:
    """Run every audit check for ``tenant_id``; the report lists each finding.

    Candidate and accepted results whose market data was restated after their run are findings
    when the policy requires re-evaluation (``on_restatement``), warnings when it only warns.
    """
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
        for check, message in timeline_findings(events, read_mode(connection, tenant_id)):
            report.add(check, message)
        report.checked["triggers"] = len(expected_triggers(connection.dialect.name))
        status = schema_status(engine)
        if status.at_head:
            for finding in trigger_findings(connection):
                report.add("triggers", finding.message)
        else:
            report.add(
                "triggers",
                f"schema at revision {status.current}, head {status.head}: triggers are compared "
                "at head only; run `crypto-analyzer db upgrade`",
            )
        _check_consistency(report, candidates, reports, events)
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
