"""The report run end to end: determinism, identity, lineage, the HTML in a real browser."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from crypto_analyzer.artifacts import open_store
from crypto_analyzer.cli.app import app
from crypto_analyzer.core.settings import load_settings, reset_settings_cache
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.governance.evidence import ValidationBundle
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.report.config import ReportConfig, load_report_config
from crypto_analyzer.pipeline.report.run import run_report
from crypto_analyzer.pipeline.workspace import init_workspace

MARKET = SyntheticMarketConfig(assets=12, days=60, seed=5)
SMALL = {
    "signals": ["momentum_24h", "short_reversal", "low_vol"],
    "horizons": [1, 4],
    "min_assets": 5,
    "factor_window": 120,
    "splits": {"test_size": 240, "min_train_size": 480, "embargo": 4},
    "procedures": {"bootstrap_reps": 200, "pbo_blocks": 8},
}


def _workspace(directory: Path, artifacts: str | None = None, **extra: str | None):
    directory.mkdir(parents=True, exist_ok=True)
    settings = load_settings(
        db_url=f"sqlite:///{directory / 'w.sqlite'}",
        artifacts=artifacts or f"file://{directory / 'artifacts'}",
        **extra,
    )
    init_workspace(settings)
    engine = create_db_engine(settings.db_url)
    ingest_synthetic(engine, MARKET)
    engine.dispose()
    return settings


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-02-01T00:00:00Z")
    reset_settings_cache()


def test_rerun_is_byte_identical_and_identity_tracks_options(tmp_path: Path, pinned: None) -> None:
    config = ReportConfig.model_validate(SMALL)
    first = run_report(_workspace(tmp_path / "a"), config, actor="alice")
    second = run_report(_workspace(tmp_path / "b"), config, actor="alice")
    assert first.run_key == second.run_key
    assert first.manifest == second.manifest
    changed = ReportConfig.model_validate({**SMALL, "horizons": [1, 6]})
    third = run_report(_workspace(tmp_path / "c"), changed, actor="alice")
    assert third.run_key != first.run_key
    relabelled = ReportConfig.model_validate({**SMALL, "hypothesis": "words only"})
    assert run_report(_workspace(tmp_path / "d"), relabelled, actor="bob").run_key == first.run_key


def test_every_manifest_artifact_has_lineage_with_matching_hash(tmp_path: Path) -> None:
    settings = _workspace(tmp_path)
    result = run_report(settings, ReportConfig.model_validate(SMALL), actor="alice")
    store = open_store(settings.artifacts)
    engine = create_db_engine(settings.db_url, read_only=True)
    with engine.connect() as connection:
        lineage = {
            row.logical_name: (row.artifact_sha256, row.uri)
            for row in connection.execute(
                sa.text(
                    "SELECT logical_name, artifact_sha256, uri FROM artifact_lineage "
                    "WHERE run_instance_id = :run"
                ),
                {"run": result.run_instance_id},
            )
        }
        status = connection.execute(
            sa.text("SELECT status FROM runs WHERE run_instance_id = :run"),
            {"run": result.run_instance_id},
        ).scalar_one()
    engine.dispose()
    assert status == "succeeded"
    names = {entry["name"] for entry in result.manifest["artifacts"]}
    assert names <= set(lineage) and "manifest.json" in lineage
    for name, (sha, uri) in lineage.items():
        data = store.get(f"runs/{result.run_instance_id}/{name}")
        assert hashlib.sha256(data).hexdigest() == sha, name
        assert uri.endswith(name)
    bundle = ValidationBundle.from_bytes(
        store.get(f"runs/{result.run_instance_id}/bundle/momentum_24h.json")
    )
    assert bundle.run_key == result.run_key and bundle.dataset_mode == "strict"
    assert bundle.attestation.present and bundle.attestation.valid
    for artifact in bundle.artifacts:
        assert hashlib.sha256(store.get(artifact.key)).hexdigest() == artifact.sha256


def test_report_goes_to_s3_with_s3_lineage(
    tmp_path: Path, s3_bucket: str, s3_endpoint: str
) -> None:
    settings = _workspace(
        tmp_path, artifacts=f"s3://{s3_bucket}/research", s3_endpoint_url=s3_endpoint
    )
    result = run_report(settings, ReportConfig.model_validate(SMALL), actor="alice")
    assert result.html_uri.startswith(f"s3://{s3_bucket}/research/runs/")
    engine = create_db_engine(settings.db_url, read_only=True)
    with engine.connect() as connection:
        uris = [row[0] for row in connection.execute(sa.text("SELECT uri FROM artifact_lineage"))]
    engine.dispose()
    assert uris and all(uri.startswith(f"s3://{s3_bucket}/") for uri in uris)


def test_report_cli_and_config_errors(tmp_path: Path) -> None:
    settings = _workspace(tmp_path)
    config = tmp_path / "report.toml"
    config.write_text(
        'signals = ["momentum_24h", "low_vol"]\nhorizons = [1, 4]\nmin_assets = 5\n'
        "factor_window = 120\n[splits]\ntest_size = 240\nmin_train_size = 480\n"
        "[procedures]\nbootstrap_reps = 200\npbo_blocks = 8\n"
    )
    runner = CliRunner()
    env = {"CRYPTO_ANALYZER_ARTIFACTS": settings.artifacts}
    result = runner.invoke(
        app, ["--db", settings.db_url, "report", "--config", str(config), "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["summary"]["family"]["size"] == 4
    bad = runner.invoke(app, ["--db", settings.db_url, "report", "--horizons", "4,1"], env=env)
    assert bad.exit_code == 2 and "horizons must be increasing" in bad.stderr
    with pytest.raises(Exception, match="does not exist"):
        load_report_config(tmp_path / "missing.toml")


def test_html_report_opens_in_chromium_without_console_errors(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    settings = _workspace(tmp_path)
    result = run_report(settings, ReportConfig.model_validate(SMALL), actor="alice")
    html = Path(result.html_uri.removeprefix("file://"))
    errors: list[str] = []
    shots = Path(__file__).resolve().parents[2] / "test-artifacts"
    shots.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update"],
        )  # fmt: skip
        page = browser.new_page()
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(html.as_uri())
        assert page.title().startswith("crypto-analyzer report")
        images = page.locator("img")
        assert images.count() >= 4
        widths = images.evaluate_all("nodes => nodes.map(n => n.naturalWidth)")
        assert all(width > 0 for width in widths)
        page.screenshot(path=str(shots / "report.png"), full_page=True)
        browser.close()
    assert errors == []
