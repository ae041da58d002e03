"""SQL for the governance tables. Every statement filters by tenant; nothing here commits.

The service composes these inside one :func:`~crypto_analyzer.governance.chain.governed_transaction`
per action; audit reads them on a read-only connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.core.errors import NotFoundError, ValidationError
from crypto_analyzer.core.service_key import ServiceKey
from crypto_analyzer.db.record_keys import REPORT_MAC, seal
from crypto_analyzer.db.schema import (
    artifact_edges,
    artifact_lineage,
    eligibility_reports,
    governance_events,
    promotion_candidates,
    runs,
)
from crypto_analyzer.governance.errors import ConcurrentChangeError
from crypto_analyzer.governance.records import (
    CandidateRecord,
    EventRecord,
    ReportRecord,
    report_mac_body,
)

__all__ = [
    "count_reports",
    "find_candidate",
    "first_promoter",
    "get_candidate",
    "insert_candidate",
    "insert_report",
    "lineage_edges",
    "lineage_rows",
    "list_candidates",
    "list_events",
    "list_reports",
    "resolve_candidate_id",
    "run_row",
    "update_status",
]

_MIN_PREFIX = 8


def get_candidate(
    connection: Connection, tenant_id: str, candidate_id: str, *, for_update: bool = False
) -> CandidateRecord | None:
    """The candidate, or ``None``. ``for_update`` row-locks it on PostgreSQL."""
    query = sa.select(promotion_candidates).where(
        promotion_candidates.c.tenant_id == tenant_id,
        promotion_candidates.c.candidate_id == candidate_id,
    )
    if for_update:
        query = query.with_for_update()
    row = connection.execute(query).mappings().first()
    return None if row is None else CandidateRecord.from_row(row)


def resolve_candidate_id(connection: Connection, tenant_id: str, given: str) -> str:
    """Full candidate id from an exact id or a unique prefix of at least 8 characters."""
    if get_candidate(connection, tenant_id, given) is not None:
        return given
    if len(given) < _MIN_PREFIX:
        raise NotFoundError(
            f"candidate {given!r} does not exist in tenant {tenant_id!r}",
            "list candidates with `crypto-analyzer promotion list`",
        )
    found = (
        connection.execute(
            sa.select(promotion_candidates.c.candidate_id)
            .where(
                promotion_candidates.c.tenant_id == tenant_id,
                promotion_candidates.c.candidate_id.startswith(given, autoescape=True),
            )
            .limit(2)
        )
        .scalars()
        .all()
    )
    if not found:
        raise NotFoundError(
            f"no candidate matches {given!r} in tenant {tenant_id!r}",
            "list candidates with `crypto-analyzer promotion list`",
        )
    if len(found) > 1:
        raise ValidationError(f"candidate id prefix {given!r} is ambiguous", "give more characters")
    return str(found[0])


def find_candidate(
    connection: Connection, tenant_id: str, run_instance_id: str, signal: str, horizon: int
) -> CandidateRecord | None:
    """The candidate for (run, signal, horizon), if one was created."""
    row = (
        connection.execute(
            sa.select(promotion_candidates).where(
                promotion_candidates.c.tenant_id == tenant_id,
                promotion_candidates.c.run_instance_id == run_instance_id,
                promotion_candidates.c.signal == signal,
                promotion_candidates.c.horizon == horizon,
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else CandidateRecord.from_row(row)


def list_candidates(
    connection: Connection,
    tenant_id: str,
    *,
    status: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int | None = None,
) -> list[CandidateRecord]:
    """Candidates of the tenant, newest first, optionally of one status.

    ``after`` is the ``(created_at, candidate_id)`` of the last candidate of the previous page
    (keyset paging in the same order); ``limit`` caps the rows.
    """
    table = promotion_candidates
    query = sa.select(table).where(table.c.tenant_id == tenant_id)
    if status is not None:
        query = query.where(table.c.status == status)
    if after is not None:
        created_at, candidate_id = after
        query = query.where(
            sa.or_(
                table.c.created_at < created_at,
                sa.and_(table.c.created_at == created_at, table.c.candidate_id > candidate_id),
            )
        )
    query = query.order_by(table.c.created_at.desc(), table.c.candidate_id)
    if limit is not None:
        query = query.limit(limit)
    return [CandidateRecord.from_row(row) for row in connection.execute(query).mappings()]


def insert_candidate(connection: Connection, candidate: CandidateRecord) -> None:
    """Insert a new (exploratory) candidate row."""
    connection.execute(promotion_candidates.insert().values(**candidate.to_dict()))


def update_status(
    connection: Connection,
    candidate: CandidateRecord,
    *,
    status: str,
    report_id: str | None,
    reason: str | None,
    updated_at: str,
) -> None:
    """Move ``candidate`` from the status it was read with to ``status``.

    The WHERE clause repeats the expected current status, so a concurrent change makes this a
    no-op that is reported rather than a silent overwrite.
    """
    result = connection.execute(
        promotion_candidates.update()
        .where(
            promotion_candidates.c.tenant_id == candidate.tenant_id,
            promotion_candidates.c.candidate_id == candidate.candidate_id,
            promotion_candidates.c.status == candidate.status,
        )
        .values(
            status=status,
            eligibility_report_id=report_id,
            status_reason=reason,
            updated_at=updated_at,
        )
    )
    if result.rowcount != 1:
        raise ConcurrentChangeError(
            f"candidate {candidate.candidate_id} is no longer {candidate.status}",
            "another action changed it; show it and retry",
        )


def count_reports(connection: Connection, tenant_id: str, candidate_id: str) -> int:
    """How many eligibility reports the candidate has (reports are never deleted)."""
    return int(
        connection.execute(
            sa.select(sa.func.count())
            .select_from(eligibility_reports)
            .where(
                eligibility_reports.c.tenant_id == tenant_id,
                eligibility_reports.c.candidate_id == candidate_id,
            )
        ).scalar_one()
    )


def insert_report(
    connection: Connection,
    *,
    tenant_id: str,
    report_id: str,
    candidate_id: str,
    level: str,
    passed: bool,
    evidence_digest: str,
    policy_id: str,
    policy_digest: str,
    reasons: Sequence[Mapping[str, Any]],
    warnings: Sequence[Mapping[str, Any]],
    actor: str,
    created_at: str,
    history: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    key: ServiceKey | None,
) -> ReportRecord:
    """Insert an eligibility report and return it as stored.

    ``history`` is the research history the decision judged (ledger size and head, scope, trial
    counts, recomputed statistics) and ``context`` what else it saw (market watermark, versions,
    policy document), kept so the decision can be re-derived later. ``key`` MACs every column.
    """
    values = {
        "tenant_id": tenant_id,
        "report_id": report_id,
        "candidate_id": candidate_id,
        "level": level,
        "passed": 1 if passed else 0,
        "evidence_digest": evidence_digest,
        "policy_id": policy_id,
        "policy_digest": policy_digest,
        "reasons_json": canonical_dumps([dict(item) for item in reasons]),
        "warnings_json": canonical_dumps([dict(item) for item in warnings]),
        "actor": actor,
        "created_at": created_at,
        "history_json": None if history is None else canonical_dumps(dict(history)),
        "context_json": None if context is None else canonical_dumps(dict(context)),
    }
    values.update(seal(key, REPORT_MAC, report_mac_body(values)))
    connection.execute(eligibility_reports.insert().values(**values))
    return ReportRecord.from_row(values)


def list_reports(connection: Connection, tenant_id: str, candidate_id: str) -> list[ReportRecord]:
    """The candidate's reports, oldest first."""
    rows = connection.execute(
        sa.select(eligibility_reports)
        .where(
            eligibility_reports.c.tenant_id == tenant_id,
            eligibility_reports.c.candidate_id == candidate_id,
        )
        .order_by(eligibility_reports.c.created_at, eligibility_reports.c.report_id)
    ).mappings()
    return [ReportRecord.from_row(row) for row in rows]


def list_events(
    connection: Connection, tenant_id: str, candidate_id: str | None = None
) -> list[EventRecord]:
    """The tenant's events in chain order, or only those of one candidate."""
    query = sa.select(governance_events).where(governance_events.c.tenant_id == tenant_id)
    if candidate_id is not None:
        query = query.where(governance_events.c.candidate_id == candidate_id)
    rows = connection.execute(query.order_by(governance_events.c.seq)).mappings()
    return [EventRecord.from_row(row) for row in rows]


def first_promoter(connection: Connection, tenant_id: str, candidate_id: str) -> str | None:
    """Actor of the event that first moved the candidate to ``candidate`` (separation of duties)."""
    row = connection.execute(
        sa.select(governance_events.c.actor)
        .where(
            governance_events.c.tenant_id == tenant_id,
            governance_events.c.candidate_id == candidate_id,
            governance_events.c.to_status == "candidate",
        )
        .order_by(governance_events.c.seq)
        .limit(1)
    ).first()
    return None if row is None else str(row[0])


def run_row(connection: Connection, tenant_id: str, run_instance_id: str) -> dict[str, Any] | None:
    """The ``runs`` row as a dict, or ``None``."""
    row = (
        connection.execute(
            sa.select(runs).where(
                runs.c.tenant_id == tenant_id, runs.c.run_instance_id == run_instance_id
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def lineage_rows(
    connection: Connection, tenant_id: str, run_instance_id: str | None = None
) -> list[dict[str, Any]]:
    """Lineage rows of one run (or of the whole tenant), by run and logical name."""
    query = sa.select(artifact_lineage).where(artifact_lineage.c.tenant_id == tenant_id)
    if run_instance_id is not None:
        query = query.where(artifact_lineage.c.run_instance_id == run_instance_id)
    query = query.order_by(artifact_lineage.c.run_instance_id, artifact_lineage.c.logical_name)
    return [dict(row) for row in connection.execute(query).mappings()]


def lineage_edges(
    connection: Connection, tenant_id: str, run_instance_id: str
) -> list[dict[str, Any]]:
    """Edges of one run, sorted."""
    rows = connection.execute(
        sa.select(artifact_edges.c.src_name, artifact_edges.c.edge_type, artifact_edges.c.dst_ref)
        .where(
            artifact_edges.c.tenant_id == tenant_id,
            artifact_edges.c.run_instance_id == run_instance_id,
        )
        .order_by(artifact_edges.c.src_name, artifact_edges.c.edge_type, artifact_edges.c.dst_ref)
    ).mappings()
    return [dict(row) for row in rows]
