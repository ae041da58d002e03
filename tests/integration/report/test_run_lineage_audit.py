"""``audit verify`` checks the lineage of every run against the run's manifest, and lists orphans.

Not only the bundles of accepted candidates: any artifact's lineage row or edge deleted, added or
retargeted by someone who dropped the append-only triggers is a finding naming the run, the
artifact and the edge. Files in the store that no lineage row references are listed as orphans
(what a killed run leaves behind), which does not make the audit fail.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from report_workspace import DATASET, drop_lineage_triggers, mini_run

from crypto_analyzer.artifacts import ArtifactStore, open_store
from crypto_analyzer.core.canonical_json import canonical_loads
from crypto_analyzer.db.registry import finish_run, start_run
from crypto_analyzer.governance import verify_workspace

RUN = "0194bece-a000-7f63-ba53-c7e0efac8cb7"


@pytest.fixture
def store(store_url: tuple[str, dict[str, object]]) -> ArtifactStore:
    """The local folder and the S3 endpoint: the audit reads both through the same contract."""
    url, options = store_url
    return open_store(url, **options)


def _findings(engine: sa.Engine, store: ArtifactStore) -> list[str]:
    report = verify_workspace(engine, store, "default")
    return [f"{f.check}: {f.message}" for f in report.findings if f.check != "triggers"]


def _sql(engine: sa.Engine, statement: str, **params: str) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def test_an_untouched_run_verifies_and_its_manifest_holds_every_edge(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    written = mini_run(backend_engine, store, RUN)
    manifest = canonical_loads(store.get(f"runs/{RUN}/manifest.json"))
    recorded = {(edge["src"], edge["type"], edge["dst"]) for edge in manifest["edges"]}
    assert manifest["schema_version"] == 2
    assert recorded == {(e.src_name, e.edge_type, e.dst_ref) for e in written.edges}
    assert ("manifest.json", "uses_dataset", "d" * 64) in recorded  # its own edges too
    report = verify_workspace(backend_engine, store, "default")
    assert report.ok, report.findings
    assert report.checked["manifests"] == 1 and report.checked["edges"] == len(recorded)
    assert report.orphans == [] and report.to_dict()["orphans"] == []


def test_a_deleted_retargeted_or_added_edge_of_any_artifact_is_found(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    mini_run(backend_engine, store, RUN)
    drop_lineage_triggers(backend_engine)
    assert _findings(backend_engine, store) == []
    edge = "src_name = 'stats/family.json' AND edge_type = 'derived_from'"

    _sql(backend_engine, f"DELETE FROM artifact_edges WHERE {edge}")
    assert _findings(backend_engine, store) == [
        f"edges: run {RUN}: artifact 'stats/family.json': edge derived_from -> 'ic/oos_ic.csv' "
        "is in the manifest but not in artifact_edges (deleted)"
    ]
    _sql(
        backend_engine,
        "INSERT INTO artifact_edges (tenant_id, run_instance_id, src_name, edge_type, dst_ref, "
        "created_at) VALUES ('default', :run, 'stats/family.json', 'derived_from', "
        "'ic/oos_ic.csv', '2025-01-01T00:00:00.000000Z')",
        run=RUN,
    )
    assert _findings(backend_engine, store) == []

    _sql(backend_engine, f"UPDATE artifact_edges SET dst_ref = 'forged.csv' WHERE {edge}")
    assert _findings(backend_engine, store) == [
        f"edges: run {RUN}: artifact 'stats/family.json': edge derived_from points at "
        "'forged.csv' in artifact_edges, the manifest recorded 'ic/oos_ic.csv' (retargeted)"
    ]
    _sql(backend_engine, f"UPDATE artifact_edges SET dst_ref = 'ic/oos_ic.csv' WHERE {edge}")

    _sql(
        backend_engine,
        "INSERT INTO artifact_edges (tenant_id, run_instance_id, src_name, edge_type, dst_ref, "
        "created_at) VALUES ('default', :run, 'figures/ic_decay.png', 'derived_from', "
        "'ic/oos_ic.csv', '2025-01-01T00:00:00.000000Z')",
        run=RUN,
    )
    assert _findings(backend_engine, store) == [
        f"edges: run {RUN}: artifact 'figures/ic_decay.png': edge derived_from -> "
        "'ic/oos_ic.csv' is in artifact_edges but not in the manifest (added)"
    ]


def test_a_deleted_or_retargeted_lineage_row_is_found_and_its_file_becomes_an_orphan(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    written = mini_run(backend_engine, store, RUN)
    drop_lineage_triggers(backend_engine)
    _sql(backend_engine, "DELETE FROM artifact_lineage WHERE logical_name = 'figures/ic_decay.png'")
    report = verify_workspace(backend_engine, store, "default")
    messages = [f.message for f in report.findings if f.check == "run_lineage"]
    assert len(messages) == 1
    assert messages[0].startswith(f"run {RUN}: artifact 'figures/ic_decay.png': its lineage row")
    assert "(deleted)" in messages[0]
    assert [o.to_dict() for o in report.orphans] == [
        {
            "key": f"runs/{RUN}/figures/ic_decay.png",
            "run_instance_id": RUN,
            "run_status": "succeeded",
        }
    ]

    plan = written.refs["split_plan.json"]
    _sql(
        backend_engine,
        "UPDATE artifact_lineage SET artifact_sha256 = :sha, uri = :uri, size_bytes = :size "
        "WHERE logical_name = 'config.json'",
        sha=plan.sha256,
        uri=plan.uri,
        size=str(plan.size),
    )  # consistent with the bytes it now points at: only the manifest tells
    found = [item for item in _findings(backend_engine, store) if "'config.json'" in item]
    assert len(found) == 1 and "(retargeted)" in found[0] and found[0].startswith("run_lineage:")


def test_orphans_are_listed_with_their_run_and_do_not_fail_the_audit(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    mini_run(backend_engine, store, RUN)
    killed = "0194bece-a000-7000-8000-000000000001"
    with backend_engine.begin() as connection:
        start_run(
            connection, tenant_id="default", run_key="k" * 64, run_instance_id=killed,
            dataset_id=DATASET, config={}, actor="t",
        )  # fmt: skip
        finish_run(connection, tenant_id="default", run_instance_id=killed, status="interrupted")
    store.put(f"runs/{killed}/config.json", b"{}")
    store.put(f"runs/{killed}/ic/oos_ic.csv", b"t\n")
    store.put(f"runs/{RUN}/stray.txt", b"planted")
    store.put("runs/not-a-run-of-this-tenant/x.json", b"{}")  # not ours to judge
    report = verify_workspace(backend_engine, store, "default")
    assert report.ok, report.findings
    assert [(o.run_instance_id, o.run_status, o.key) for o in report.orphans] == [
        (killed, "interrupted", f"runs/{killed}/config.json"),
        (killed, "interrupted", f"runs/{killed}/ic/oos_ic.csv"),
        (RUN, "succeeded", f"runs/{RUN}/stray.txt"),
    ]
    assert report.checked["orphans"] == 3
    assert report.checked["runs_without_manifest"] == 1  # the killed run never wrote one
