"""``audit trace``: a candidate's whole record from the database alone.

Candidate → reports → events → run → dataset → artifacts → lineage, so an auditor can answer "why is
this accepted?" without trusting any file (``audit verify`` is what checks the files).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.canonical_json import CanonicalJSONError, canonical_loads
from crypto_analyzer.core.errors import NotFoundError
from crypto_analyzer.core.identities import DatasetId
from crypto_analyzer.db.schema import run_artifacts
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance.evidence import bundle_logical_name

__all__ = ["trace_candidate"]


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
