"""Reading the quarantine: which records were refused, why, from which file line and run.

Every refused record is a row of ``ingest_rejects`` (reason + raw payload); imported rows carry
their file ``line`` inside the payload. This is the read side behind ``ingest rejects``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.db.schema import ingest_rejects, ingest_runs
from crypto_analyzer.ingest.file_checks import reason_code

__all__ = ["RejectRow", "RejectsPage", "list_rejects"]


@dataclass(frozen=True, slots=True)
class RejectRow:
    """One quarantined record."""

    ingest_run_id: str
    seq: int
    provider: str
    data_kind: str
    reason: str
    line: int | None
    raw_payload: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_kind": self.data_kind,
            "ingest_run_id": self.ingest_run_id,
            "line": self.line,
            "provider": self.provider,
            "raw_payload": self.raw_payload,
            "reason": self.reason,
            "reason_code": reason_code(self.reason),
            "seq": self.seq,
        }


@dataclass(frozen=True)
class RejectsPage:
    """The rows shown (newest run first, file order within a run) and counts per reason code
    over every row that matched the filters (not only the rows shown)."""

    rows: tuple[RejectRow, ...]
    reason_counts: dict[str, int]
    total: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason_counts": dict(sorted(self.reason_counts.items())),
            "rejects": [row.to_dict() for row in self.rows],
            "shown": len(self.rows),
            "total": self.total,
        }


def list_rejects(
    engine: Engine,
    *,
    tenant_id: str = "default",
    run_id: str | None = None,
    reason: str | None = None,
    limit: int = 100,
) -> RejectsPage:
    """Quarantined records of one tenant, optionally of one run and/or one reason code."""
    r, runs = ingest_rejects.c, ingest_runs.c
    where = [r.tenant_id == tenant_id]
    if run_id is not None:
        where.append(r.ingest_run_id == run_id)
    if reason is not None:
        where.append(r.reason.startswith(reason.strip(), autoescape=True))
    joined = ingest_rejects.join(
        ingest_runs, sa.and_(runs.tenant_id == r.tenant_id, runs.ingest_run_id == r.ingest_run_id)
    )
    with engine.connect() as connection:
        reasons = connection.execute(sa.select(r.reason).where(*where)).scalars().all()
        rows = connection.execute(
            sa.select(r.ingest_run_id, r.seq, runs.provider, r.data_kind, r.reason, r.raw_payload)
            .select_from(joined)
            .where(*where)
            .order_by(runs.started_at.desc(), r.ingest_run_id, r.seq)
            .limit(limit)
        ).all()
    counts = Counter(reason_code(text) for text in reasons)
    return RejectsPage(
        tuple(
            RejectRow(run, int(seq), provider, kind, text, _line(payload), payload)
            for run, seq, provider, kind, text, payload in rows
        ),
        dict(counts),
        len(reasons),
    )


def _line(payload: str) -> int | None:
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    line = value.get("line") if isinstance(value, dict) else None
    return line if isinstance(line, int) and not isinstance(line, bool) else None
