"""Reproduction on SQLite and PostgreSQL: a pinned run re-executes byte for byte in a scratch
sandbox, the governed workspace gains only the ``reproduced`` event, and ``audit verify`` passes."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from crypto_analyzer.core.settings import load_settings, reset_settings_cache
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.governance import audit_verify, open_service
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report
from crypto_analyzer.pipeline.reproduce import reproduce
from crypto_analyzer.pipeline.workspace import init_workspace

MARKET = SyntheticMarketConfig(assets=12, days=60, seed=5)
CONFIG = {
    "signals": ["momentum_24h", "short_reversal"],
    "horizons": [1, 4],
    "min_assets": 5,
    "factor_window": 120,
    "splits": {"test_size": 240, "min_train_size": 480, "embargo": 4},
    "procedures": {"bootstrap_reps": 200, "pbo_blocks": 8},
}


def test_reproduce_on_each_backend(
    backend_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(db_url=backend_url, artifacts=f"file://{tmp_path / 'art'}")
    init_workspace(settings, WorkspaceMode.SANDBOX)
    with open_engine(settings, read_only=False) as engine:
        ingest_synthetic(engine, MARKET, tenant_id=settings.tenant)
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-03-01T00:00:00Z")
    reset_settings_cache()
    # two runs of one config: the second takes attempt 1 and sees the first one's trials
    run_report(settings, ReportConfig.model_validate(CONFIG), actor="researcher")
    second = run_report(settings, ReportConfig.model_validate(CONFIG), actor="researcher")
    monkeypatch.delenv("CRYPTO_ANALYZER_FIXED_TIME")
    reset_settings_cache()
    with open_service(settings, read_only=False) as service:
        candidate = service.create(run_instance_id=second.run_instance_id, signal="momentum_24h",
                                   horizon=1, actor="researcher")  # fmt: skip
    with open_engine(settings, read_only=True) as engine, engine.connect() as connection:
        runs_before = connection.execute(sa.text("SELECT COUNT(*) FROM runs")).scalar_one()
    outcome = reproduce(settings, candidate.candidate_id, actor="auditor")
    assert outcome.status == "reproduced", outcome.reason
    assert outcome.artifacts and all(item.equal for item in outcome.artifacts)
    assert outcome.instance_reproducible is True
    assert len(outcome.event_ids) == 1
    with open_service(settings, read_only=True) as service:
        events = service.events(candidate.candidate_id)
    assert [event.event_type for event in events] == ["created", "reproduced"]
    assert events[-1].payload["result"] == "reproduced"
    with open_engine(settings, read_only=True) as engine, engine.connect() as connection:
        assert connection.execute(sa.text("SELECT COUNT(*) FROM runs")).scalar_one() == runs_before
    verify = audit_verify(settings)
    assert verify.ok, [finding.message for finding in verify.findings]


def test_reproduce_names_no_candidate_for_an_unknown_target(
    backend_url: str, tmp_path: Path
) -> None:
    from crypto_analyzer.core.errors import NotFoundError

    settings = load_settings(db_url=backend_url, artifacts=f"file://{tmp_path / 'art'}")
    init_workspace(settings, WorkspaceMode.SANDBOX)
    with pytest.raises(NotFoundError):
        reproduce(settings, "cand_0000000000000000", actor="auditor")
