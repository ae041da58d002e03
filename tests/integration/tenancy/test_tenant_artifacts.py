"""The artifact store is partitioned by tenant: keys, lineage URIs, reads and the audit.

Two sandbox tenants of one workspace run the same report under the same pinned clock, so they get
the same run instance id (ids are unique per tenant only). Before issue 11 both wrote the same
keys and one tenant's files sat in the other's run folder; now the default tenant keeps the
historical ``runs/<id>/`` layout and every other tenant writes under ``tenants/<id>/runs/<id>/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))

from report_workspace import MARKET, SMALL

from crypto_analyzer.artifacts import open_store
from crypto_analyzer.artifacts.run_layout import run_of_key, run_prefix
from crypto_analyzer.core.settings import load_settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.governance import verify_workspace
from crypto_analyzer.governance.bundles import load_bundle
from crypto_analyzer.ingest.synthetic import ingest_synthetic
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report
from crypto_analyzer.pipeline.workspace import init_workspace


def test_run_layout_keeps_default_keys_and_partitions_other_tenants() -> None:
    assert run_prefix("r1") == "runs/r1/" == run_prefix("r1", "default")
    assert run_prefix("r1", "desk-b") == "tenants/desk-b/runs/r1/"
    assert run_of_key("runs/r1/a.json") == "r1"
    assert run_of_key("tenants/desk-b/runs/r1/a.json") is None  # not the default tenant's
    assert run_of_key("tenants/desk-b/runs/r1/a.json", "desk-b") == "r1"
    assert run_of_key("runs/r1/a.json", "desk-b") is None
    with pytest.raises(ValueError, match="not a tenant id"):
        run_prefix("r1", "../default")


def test_two_tenants_with_the_same_run_id_never_share_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-01-01T00:00:00Z")
    results = {}
    for tenant in ("default", "desk-b"):
        settings = load_settings(
            db_url=f"sqlite:///{tmp_path / 'w.sqlite'}",
            artifacts=f"file://{tmp_path / 'artifacts'}",
            tenant=tenant,
        )
        init_workspace(settings, WorkspaceMode.SANDBOX)
        engine = create_db_engine(settings.db_url)
        ingest_synthetic(engine, MARKET, tenant_id=tenant)
        engine.dispose()
        results[tenant] = run_report(settings, ReportConfig.model_validate(SMALL), actor="alice")
    ours, theirs = results["default"], results["desk-b"]
    assert ours.run_instance_id == theirs.run_instance_id  # same pinned clock, same id …
    assert ours.dataset.dataset_id == theirs.dataset.dataset_id  # … same data …
    run = ours.run_instance_id
    ours_keys = {entry["key"] for entry in ours.manifest["artifacts"]}
    theirs_keys = {entry["key"] for entry in theirs.manifest["artifacts"]}
    assert all(key.startswith(f"runs/{run}/") for key in ours_keys)  # default layout unchanged
    assert all(key.startswith(f"tenants/desk-b/runs/{run}/") for key in theirs_keys)
    assert not ours_keys & theirs_keys  # … but no shared file
    store = open_store(f"file://{tmp_path / 'artifacts'}")
    engine = create_db_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    try:
        with engine.connect() as connection:
            uris = dict(
                connection.execute(
                    sa.text(
                        "SELECT tenant_id, group_concat(uri, '|') FROM artifact_lineage "
                        "GROUP BY tenant_id"
                    )
                ).all()
            )
        assert "/tenants/" not in uris["default"]
        assert all("/tenants/desk-b/runs/" in uri for uri in uris["desk-b"].split("|"))
        for tenant, result in results.items():
            report = verify_workspace(engine, store, tenant)
            assert report.ok, report.findings
            assert not report.orphans, report.orphans  # the other tenant's files are not here
            signal = next(iter(result.bundles))
            with engine.connect() as connection:
                loaded = load_bundle(connection, store, tenant, run, signal)
            assert loaded.bundle == result.bundles[signal]
    finally:
        engine.dispose()
