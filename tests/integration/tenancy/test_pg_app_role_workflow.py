"""The whole research workflow on PostgreSQL as the application role, under forced RLS.

Every reader and writer must run as the transaction's tenant, including the ones that use raw
driver cursors (the dataset-id reader, stored factor fits, bulk ingest): a path that forgot the
tenant reads nothing under row-level security and the workflow fails here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from tenancy_support import as_role
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))

from report_workspace import MARKET, SMALL, SMALL_TOML

from crypto_analyzer.artifacts import open_store
from crypto_analyzer.cli.app import app
from crypto_analyzer.core.settings import DEFAULT_APP_ROLE, reset_settings_cache
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.governance import verify_workspace
from crypto_analyzer.ingest.synthetic import ingest_synthetic

pytestmark = pytest.mark.postgres


def test_ingest_materialize_report_and_audit_as_the_app_role(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_url = as_role(postgres_url, DEFAULT_APP_ROLE)
    for name, value in {
        "CRYPTO_ANALYZER_DB_URL": app_url,
        "CRYPTO_ANALYZER_ADMIN_DB_URL": postgres_url,
        "CRYPTO_ANALYZER_ARTIFACTS": f"file://{tmp_path / 'artifacts'}",
        "CRYPTO_ANALYZER_TENANT": "desk-a",
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    engine = create_db_engine(app_url, tenant="desk-a")
    try:
        ingest_synthetic(engine, MARKET, tenant_id="desk-a")
        (tmp_path / "report.toml").write_text(SMALL_TOML)
        for command in (
            ["check-dataset"],
            ["materialize", "factors", "--window", str(SMALL["factor_window"])],
            ["report", "--config", str(tmp_path / "report.toml")],
        ):
            outcome = runner.invoke(app, command)
            assert outcome.exit_code == 0, (command, outcome.output)
        with engine.connect() as connection:
            status = connection.exec_driver_sql("SELECT status FROM runs").scalars().all()
            stored = connection.exec_driver_sql(
                "SELECT count(*) FROM factor_runs"
                " WHERE values_digest IS NOT NULL AND artifact_sha256 IS NOT NULL"
            ).scalar()
        assert status == ["succeeded"] and stored == 1  # the fit's values are a stored artifact
        report = verify_workspace(engine, open_store(f"file://{tmp_path / 'artifacts'}"), "desk-a")
        assert report.ok, report.findings
        assert report.checked["runs"] == 1
    finally:
        engine.dispose()
