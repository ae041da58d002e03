"""Seeding a governance workspace the way the research report will: run rows, artifacts, lineage.

Each seeded run gets a ``runs`` row (succeeded), its evidence artifacts and its validation bundle in
the artifact store, and lineage rows plus edges exactly as ``governance.evidence`` specifies. Its
trials go to the ledger MACed with the workspace's service key, and the new ledger head is anchored
(WAL checkpoint, signed checkpoint in the store), as ``report`` does. The bundle factory lives with
the unit tests (``gov_factories``); conftest puts that folder on the path.
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
from crypto_analyzer.db.record_keys import engine_key
from crypto_analyzer.db.registry import finish_run, start_run
from crypto_analyzer.db.trial_ledger import NewTrial, append_trials
from crypto_analyzer.governance import GovernanceService, ValidationBundle, bundle_logical_name
from crypto_analyzer.governance.checkpoints import anchor
from crypto_analyzer.governance.policy import PolicySet, load_policy_set

__all__ = ["SeededRun", "count_rows", "make_service", "seed_run", "strong_trial"]

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
    record_trials: bool = True,
    data_watermark: int | None = 0,
) -> SeededRun:
    """A finished run whose bundle for ``signal`` passes the default policy unless ``changes``.

    Like a report run, it records one trial-ledger row per horizon of the bundle (strong
    statistics, a family of one) unless ``record_trials`` is False, and the market watermark its
    data was read at (``None``: a run from before point-in-time data).
    """
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
            data_watermark=data_watermark,
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
    if record_trials:
        trials = [
            strong_trial(run_instance_id, key, dataset.value, signal, item.horizon)
            for item in bundle.horizons
        ]
        append_trials(engine, tenant_id, trials, created_at="2025-01-01T00:00:00.000000Z")
        assert not anchor(engine, store, tenant_id, engine_key(engine))
    return SeededRun(run_instance_id, signal, bundle, bundle_key)


def strong_trial(
    run_instance_id: str, run_key: str, dataset_id: str, signal: str, horizon: int, **changes: Any
) -> NewTrial:
    """A trial with a clearly real effect (Sharpe 0.2 per period over 1,000 returns, p 1e-9)."""
    values: dict[str, Any] = {
        "run_instance_id": run_instance_id,
        "run_key": run_key,
        "dataset_id": dataset_id,
        "data_watermark": 1,
        "signal": signal,
        "params": {},
        "horizon": horizon,
        "freq": "1h",
        "instruments": ("BTC", "ETH", "SOL"),
        "start_ms": 0,
        "end_ms": 1_000 * 3_600_000,
        "sharpe": 0.2,
        "skewness": 0.0,
        "kurtosis": 3.0,
        "n_returns": 1_000,
        "ic_mean": 0.05,
        "ic_t": 6.0,
        "p_value": 1e-9,
        "n_obs": 1_000,
        "family_size": 1,
        "family_n_eff": 1.0,
    }
    values.update(changes)
    return NewTrial(**values)


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
