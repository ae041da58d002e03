"""Report runs key their trial-ledger rows with the service key and anchor the new ledger head.

A governed workspace without a usable key is refused before any work (no run row, no trial, no
artifact); with the key that ``init`` created next to the database, every trial carries its MAC
and a signed checkpoint in the store covers the ledger the run grew.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from report_workspace import SMALL, workspace

from crypto_analyzer.artifacts import open_store
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.service_key import load_service_key
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.governance import verify_workspace
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report


def _count(url: str, table: str) -> int:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one())
    finally:
        engine.dispose()


def test_a_governed_report_run_without_a_service_key_stops_before_any_work(
    tmp_path: Path,
) -> None:
    settings = workspace(tmp_path)
    (tmp_path / "w.sqlite.service-key").unlink()
    with pytest.raises(ConfigError, match=r"a report run \(its trial ledger\) in governed tenant"):
        run_report(settings, ReportConfig.model_validate(SMALL), actor="alice")
    assert _count(settings.db_url, "runs") == 0
    assert _count(settings.db_url, "trial_ledger") == 0
    assert not (tmp_path / "artifacts" / "runs").exists()


def test_a_report_run_keys_its_trials_and_anchors_the_ledger_head(tmp_path: Path) -> None:
    settings = workspace(tmp_path)
    key = load_service_key(tmp_path / "w.sqlite.service-key")  # created by init
    run_report(settings, ReportConfig.model_validate(SMALL), actor="alice")
    engine = create_db_engine(settings.db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT mac, mac_key_id FROM trial_ledger")).all()
        store = open_store(settings.artifacts)
        checkpoints = store.list("checkpoints/default/")
        assert len(rows) == 6 and all(mac and kid == key.key_id for mac, kid in rows)
        assert [json.loads(store.get(k))["ledger"]["size"] for k in checkpoints] == [6]
        report = verify_workspace(engine, store, "default")
        assert report.ok, report.findings
        assert report.checked["macs"] == 6 and report.checked["checkpoints"] == 1
    finally:
        engine.dispose()
