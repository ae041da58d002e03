"""Restating one bar under an accepted result: history kept, result reported stale, event recorded.

A governed workspace accepts a planted signal; then one bar that the run read is restated (a
corrected close arrives through the provenance writer, as any import would write it). The old
dataset id stays reproducible as of the run's watermark, ``audit stale`` and ``audit verify`` name
the accepted candidate with the table and time range restated, a ``restated`` event records it
(once), and a new evaluation on the stale evidence is denied under the default policy.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.core.settings import Settings, load_settings
from crypto_analyzer.db.dataset_id import compute_dataset_id
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.loaders import load_bars
from crypto_analyzer.db.provenance import ProvenanceWriter
from crypto_analyzer.db.trial_ledger import read_trials
from crypto_analyzer.governance import open_service, record_restatements
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report
from crypto_analyzer.pipeline.workspace import init_workspace

REPORT = {
    "signals": ["volume_shock", "momentum_24h", "low_vol"],
    "horizons": [1, 4],
    "min_assets": 5,
    "factor_window": 240,
    "splits": {"test_size": 480, "min_train_size": 960, "embargo": 4},
    "portfolio": {"k": 4, "target_capital": 10_000.0, "capital_grid": [5_000.0, 10_000.0]},
    "costs": {"fee_bps": 2.0, "half_spread_bps": 1.0, "impact_coef": 0.01},
    "procedures": {"bootstrap_reps": 300, "pbo_blocks": 8},
}
runner = CliRunner()


def _cli(settings: Settings, *args: str) -> Any:
    return runner.invoke(
        app,
        [*args, "--db", settings.db_url],
        env={"CRYPTO_ANALYZER_ARTIFACTS": settings.artifacts, "COLUMNS": "4000"},
    )


@pytest.fixture
def accepted(tmp_path: Path) -> tuple[Settings, Any, str, str]:
    """(settings, report result, accepted candidate id, the other candidate of the run)."""
    settings = load_settings(
        db_url=f"sqlite:///{tmp_path / 'w.sqlite'}", artifacts=f"file://{tmp_path / 'artifacts'}"
    )
    init_workspace(settings)
    engine = create_db_engine(settings.db_url)
    ingest_synthetic(engine, SyntheticMarketConfig(assets=20, days=150, seed=7, planted_ic=0.1))
    engine.dispose()
    result = run_report(settings, ReportConfig.model_validate(REPORT), actor="alice")
    with open_service(settings, read_only=False) as service:
        candidate = service.create(
            run_instance_id=result.run_instance_id, signal="volume_shock", horizon=1, actor="alice"
        ).candidate_id
        other = service.create(
            run_instance_id=result.run_instance_id, signal="volume_shock", horizon=4, actor="alice"
        ).candidate_id
        service.promote(candidate, target="candidate", actor="alice")
        service.promote(candidate, target="accepted", actor="bob")
    return settings, result, candidate, other


def _restate_one_bar(settings: Settings, run_instance_id: str) -> tuple[str, int]:
    """A corrected close (+1 %) for one bar the run used; returns (instrument, bar open ms)."""
    engine = create_db_engine(settings.db_url)
    with engine.connect() as connection:
        trial = read_trials(connection, settings.tenant, run_instance_id=run_instance_id)[0]
    instrument = trial.instruments()[0]
    bars = load_bars(engine, tenant_id=settings.tenant, freq="1h")
    row = bars[bars["instrument_id"] == instrument].iloc[len(bars) // (2 * 20)].to_dict()
    close = row["close"] * 1.01
    fixed = {
        "instrument_id": instrument,
        "freq": "1h",
        "bar_open_ms": int(row["bar_open_ms"]),
        "open": row["open"],
        "high": max(row["high"], close),
        "low": row["low"],
        "close": close,
        "volume": row["volume"],
    }
    writer = ProvenanceWriter(engine, tenant_id=settings.tenant, actor="data-desk")
    run = writer.start_run("import", "vendor-correction", {"reason": "corrected close"})
    assert writer.write_bars(run, pd.DataFrame([fixed]), source="import") == 1
    writer.finish_run(run, "succeeded")
    engine.dispose()
    return instrument, int(row["bar_open_ms"])


def _events(settings: Settings, candidate: str) -> list[dict[str, Any]]:
    engine = create_db_engine(settings.db_url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT event_type, payload_json FROM governance_events "
                "WHERE candidate_id = :c ORDER BY seq"
            ),
            {"c": candidate},
        ).all()
    engine.dispose()
    return [{"type": kind, "payload": json.loads(payload)} for kind, payload in rows]


def test_restating_one_bar_keeps_the_old_dataset_and_reports_the_accepted_result(
    accepted: tuple[Settings, Any, str, str], tmp_path: Path
) -> None:
    settings, result, candidate, other = accepted
    recorded = result.dataset.dataset_id.value
    watermark = result.dataset.watermark
    assert watermark is not None and watermark >= 1
    assert _cli(settings, "audit", "stale").exit_code == 0
    assert _cli(settings, "audit", "verify").exit_code == 0

    instrument, bar_open = _restate_one_bar(settings, result.run_instance_id)
    engine = create_db_engine(settings.db_url)
    current = compute_dataset_id(engine, tenant_id=settings.tenant)
    as_of = compute_dataset_id(engine, tenant_id=settings.tenant, as_of=watermark)
    engine.dispose()
    assert current.dataset_id.value != recorded and current.watermark == watermark + 1
    assert as_of.dataset_id.value == recorded  # the old dataset still exists, point in time
    reproduced = _cli(settings, "check-dataset", "--as-of", result.run_instance_id)
    assert reproduced.exit_code == 0, reproduced.output
    assert "reproduced" in reproduced.output

    stale = _cli(settings, "audit", "stale", "--json")
    assert stale.exit_code == 1, stale.output
    document = json.loads(stale.stdout)
    mine = next(item for item in document["results"] if item["candidate_id"] == candidate)
    assert mine["stale"] and mine["status"] == "accepted" and mine["watermark"] == watermark
    (restatement,) = mine["restatements"]
    assert restatement["table"] == "bars" and restatement["freq"] == "1h"
    assert restatement["rows"] == 1 and restatement["instruments"] == 1
    assert restatement["start_ms"] == restatement["end_ms"] == bar_open
    human = _cli(settings, "audit", "stale")
    assert candidate in human.stdout and "bars 1h: 1 row(s)" in human.stdout

    verify = _cli(settings, "audit", "verify", "--json")
    assert verify.exit_code == 1
    findings = json.loads(verify.stdout)["findings"]
    assert [f["check"] for f in findings] == ["stale"], findings
    assert candidate in findings[0]["message"]
    # Under a policy that only warns, the same fact is a warning and the audit passes.
    policy = tmp_path / "warn.toml"
    text = (
        resources.files("crypto_analyzer.governance.policy") / "default_policy.toml"
    ).read_text()
    policy.write_text(text.replace('"require_reevaluation"', '"warn"'))
    warned = _cli(settings, "audit", "verify", "--json", "--policy", str(policy))
    assert warned.exit_code == 0, warned.output
    assert [w["check"] for w in json.loads(warned.stdout)["warnings"]] == ["stale"]

    # The restatement is recorded as an event on the accepted candidate — once.
    events = record_restatements(settings, token=None)
    assert {event.candidate_id for event in events} == {candidate, other}
    assert record_restatements(settings, token=None) == []
    restated = [e for e in _events(settings, candidate) if e["type"] == "restated"]
    assert len(restated) == 1
    assert restated[0]["payload"]["restatement"]["superseded_revision"] == watermark + 1
    assert restated[0]["payload"]["watermark"] == watermark

    # Evidence from restated data no longer promotes (default: require re-evaluation).
    with open_service(settings, read_only=False) as service:
        outcome = service.evaluate(other, target="candidate", actor="alice")
    assert not outcome.passed
    reasons = [r for r in outcome.decision.reasons if r.rule == "history.restated"]
    assert reasons and instrument not in reasons[0].message  # counts, not raw ids
    assert "rerun the report on the current data" in reasons[0].message
    assert _cli(settings, "audit", "verify").exit_code == 1  # the audit stays red until revoked


def test_an_identical_reimport_is_not_a_restatement(
    accepted: tuple[Settings, Any, str, str],
) -> None:
    settings, result, candidate, _ = accepted
    engine = create_db_engine(settings.db_url)
    bars = load_bars(engine, tenant_id=settings.tenant, freq="1h").head(50).assign(freq="1h")
    columns = ["instrument_id", "freq", "bar_open_ms", "open", "high", "low", "close", "volume",
               "vwap", "log_return"]  # fmt: skip
    writer = ProvenanceWriter(engine, tenant_id=settings.tenant, actor="data-desk")
    run = writer.start_run("import", "synthetic", {"again": True})
    writer.write_bars(run, bars[columns], source="synthetic")
    writer.finish_run(run, "succeeded")
    again = compute_dataset_id(engine, tenant_id=settings.tenant)
    engine.dispose()
    assert again.dataset_id == result.dataset.dataset_id
    assert again.watermark == result.dataset.watermark  # no new revision
    assert _cli(settings, "audit", "stale").exit_code == 0
    assert record_restatements(settings, token=None) == []
    assert not [e for e in _events(settings, candidate) if e["type"] == "restated"]
