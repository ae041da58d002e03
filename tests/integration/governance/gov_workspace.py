"""Seeding a governance workspace the way the research report will: run rows, artifacts, lineage.

Each seeded run gets a ``runs`` row (succeeded), its evidence artifacts and its validation bundle in
the artifact store, and lineage rows plus edges exactly as ``governance.evidence`` specifies. The
bundle factory lives with the unit tests (``gov_factories``); conftest puts that folder on the path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from gov_factories import artifact_bytes, patched, strong_bundle

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.identities import DatasetId, DatasetMode, run_key
from crypto_analyzer.db.lineage import LineageEdge, LineageRecord, record_lineage
from crypto_analyzer.db.registry import finish_run, start_run
from crypto_analyzer.governance import GovernanceService, ValidationBundle, bundle_logical_name
from crypto_analyzer.governance.policy import PolicySet, load_policy_set

__all__ = ["SeededRun", "count_rows", "make_service", "seed_run"]

STRICT = DatasetId(DatasetMode.STRICT, "a" * 64)


@dataclass(frozen=True, slots=True)
class SeededRun:
    run_instance_id: str
    signal: str
    bundle: ValidationBundle
    bundle_key: str


def seed_run(
    engine: sa.Engine,
    store: ArtifactStore,
    *,
    run_instance_id: str = "run-0001",
    signal: str = "momentum",
    tenant_id: str = "default",
    dataset: DatasetId = STRICT,
    changes: Mapping[str, Any] | None = None,
    run_status: str = "succeeded",
    omit_lineage: tuple[str, ...] = (),
) -> SeededRun:
    """A finished run whose bundle for ``signal`` passes the default policy unless ``changes``."""
    config = {"signal": signal, "run": run_instance_id}
    key = run_key(dataset, config)
    with engine.begin() as connection:
        start_run(
            connection,
            tenant_id=tenant_id,
            run_key=key,
            run_instance_id=run_instance_id,
            dataset_id=dataset,
            config=config,
            actor="researcher",
        )
        finish_run(
            connection, tenant_id=tenant_id, run_instance_id=run_instance_id, status=run_status
        )
        digest = connection.execute(
            sa.text("SELECT config_digest FROM runs WHERE tenant_id = :t AND run_instance_id = :r"),
            {"t": tenant_id, "r": run_instance_id},
        ).scalar_one()
    bundle = strong_bundle(
        run_instance_id=run_instance_id,
        signal=signal,
        run_key=key,
        dataset_id=dataset.value,
        config_digest=digest,
        uri_prefix=store.url,
    )
    if changes:
        bundle = patched(bundle, changes)
    records = []
    for artifact in bundle.artifacts:
        kind = "attestation" if artifact.name.startswith("attestation/") else "ic"
        ref = store.put(artifact.key, artifact_bytes(kind, run_instance_id))
        records.append(
            LineageRecord(artifact.name, ref.sha256, ref.uri, ref.size, "json", schema_version="1")
        )
    bundle_key = f"runs/{run_instance_id}/bundle/{signal}.json"
    ref = store.put(bundle_key, bundle.to_bytes())
    name = bundle_logical_name(signal)
    records.append(LineageRecord(name, ref.sha256, ref.uri, ref.size, "validation_bundle", "1"))
    edges = [
        LineageEdge(name, "uses_dataset", bundle.dataset_id),
        LineageEdge(name, "uses_config", bundle.config_digest),
    ]
    if bundle.attestation.present and bundle.attestation.name:
        edges.append(LineageEdge(bundle.attestation.name, "attests", name))
    records = [record for record in records if record.logical_name not in omit_lineage]
    edges = [edge for edge in edges if edge.src_name not in omit_lineage]
    with engine.begin() as connection:
        record_lineage(
            connection,
            tenant_id=tenant_id,
            run_instance_id=run_instance_id,
            records=records,
            edges=edges,
        )
    return SeededRun(run_instance_id, signal, bundle, bundle_key)


def make_service(
    engine: sa.Engine,
    store: ArtifactStore | None,
    *,
    tenant_id: str = "default",
    policy: PolicySet | None = None,
    observer: Callable[[str], None] | None = None,
) -> GovernanceService:
    return GovernanceService(
        engine,
        store,
        tenant_id=tenant_id,
        policy=policy if policy is not None else load_policy_set(),
        observer=observer,
    )


def count_rows(engine: sa.Engine) -> dict[str, int]:
    """Row counts of the governance tables, and status per candidate (to compare snapshots)."""
    with engine.connect() as connection:
        counts = {
            table: connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()
            for table in ("promotion_candidates", "eligibility_reports", "governance_events")
        }
        statuses = connection.exec_driver_sql(
            "SELECT candidate_id, status, eligibility_report_id FROM promotion_candidates "
            "ORDER BY candidate_id"
        ).all()
    return {**counts, "statuses": [tuple(row) for row in statuses]}  # type: ignore[dict-item]
