"""A report records its watermark, uses exactly that data and stays checkable after restatements."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import crypto_analyzer.pipeline.report.inputs as report_inputs
import crypto_analyzer.pipeline.report.run as report_run
from crypto_analyzer.cli.app import app
from crypto_analyzer.core.settings import Settings, load_settings, reset_settings_cache
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.provenance import ProvenanceWriter
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.report.config import ReportConfig
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
runner = CliRunner()


@pytest.fixture(autouse=True)
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-02-01T00:00:00Z")
    reset_settings_cache()


def _workspace(directory: Path) -> Settings:
    directory.mkdir(parents=True)
    settings = load_settings(
        db_url=f"sqlite:///{directory / 'w.sqlite'}", artifacts=f"file://{directory / 'art'}"
    )
    init_workspace(settings)
    engine = create_db_engine(settings.db_url)
    ingest_synthetic(engine, MARKET)
    engine.dispose()
    return settings


def _restate_bars(settings: Settings) -> str:
    """An import that restates the closes of one instrument's latest 300 hourly bars (to the
    bar's high or low, alternately); returns its ingest run id."""
    engine = create_db_engine(settings.db_url)
    with engine.connect() as connection:
        bars = pd.read_sql(
            sa.text(
                "SELECT instrument_id, freq, bar_open_ms, open, high, low, close, volume FROM bars "
                "WHERE freq = '1h' AND instrument_id = (SELECT MIN(instrument_id) FROM bars) "
                "ORDER BY bar_open_ms DESC LIMIT 300"
            ),
            connection,
        )
    bars["close"] = bars["high"].where(bars.index % 2 == 0, bars["low"])
    writer = ProvenanceWriter(engine)
    run = writer.start_run("import", "restatement", {"bars": len(bars)})
    writer.write_bars(run, bars, source="import")
    writer.finish_run(run, "succeeded")
    engine.dispose()
    return run.ingest_run_id


def _cli(settings: Settings, *args: str):
    return runner.invoke(app, ["--db", settings.db_url, *args])


def test_a_report_uses_the_data_its_id_names_and_check_dataset_reproduces_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = ReportConfig.model_validate(CONFIG)
    plain = report_run.run_report(_workspace(tmp_path / "plain"), config, actor="alice")

    # The same workspace, but an ingest restating a bar commits after the dataset id and the bars
    # were read, before the rest of the inputs: the run must still compute on the data its
    # recorded id names.
    raced_settings = _workspace(tmp_path / "raced")
    real_load = report_inputs.load_instruments
    restatements: list[str] = []

    def load_after_an_ingest(engine: sa.Engine, **kwargs: object) -> pd.DataFrame:
        if not restatements:
            restatements.append(_restate_bars(raced_settings))
        return real_load(engine, **kwargs)

    monkeypatch.setattr(report_inputs, "load_instruments", load_after_an_ingest)
    raced = report_run.run_report(raced_settings, config, actor="alice")
    assert restatements, "the restatement was not injected"
    assert raced.dataset.dataset_id == plain.dataset.dataset_id
    assert raced.manifest == plain.manifest  # byte-identical artifacts: the same data was used
    watermark = raced.dataset.watermark
    assert watermark is not None and watermark == plain.dataset.watermark

    shown = _cli(raced_settings, "runs", "show", raced.run_instance_id, "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["data_watermark"] == watermark
    table = _cli(raced_settings, "runs", "show", raced.run_instance_id).stdout
    assert re.search(rf"data_watermark\s*│\s*{watermark}\s*│", table), table

    # After the restatement the current id differs; as of the run it is reproduced.
    current = json.loads(_cli(raced_settings, "check-dataset", "--json").stdout)
    assert current["watermark"] == watermark + 1
    assert current["dataset_id"] != raced.dataset.dataset_id.value
    checked = _cli(raced_settings, "check-dataset", "--as-of", raced.run_instance_id[:13], "--json")
    assert checked.exit_code == 0, checked.output
    payload = json.loads(checked.stdout)
    assert payload["reproduced"] is True
    assert payload["dataset_id"] == payload["recorded_dataset_id"] == raced.dataset.dataset_id.value
    assert payload["watermark"] == watermark
    assert payload["as_of"] == {
        "given": raced.run_instance_id[:13],
        "kind": "report_run",
        "recorded_dataset_id": raced.dataset.dataset_id.value,
        "run_id": raced.run_instance_id,
        "watermark": watermark,
    }
    human = _cli(raced_settings, "check-dataset", "--as-of", raced.run_instance_id)
    assert human.exit_code == 0, human.output
    assert f"watermark {watermark}" in human.stdout and "reproduced" in human.stdout
    assert raced.dataset.dataset_id.value in human.stdout

    # A watermark number and an ingest run name the same points in time.
    by_number = json.loads(_cli(raced_settings, "check-dataset", "--as-of", str(watermark),
                                "--json").stdout)  # fmt: skip
    assert by_number["dataset_id"] == raced.dataset.dataset_id.value
    assert by_number["reproduced"] is None
    by_ingest = json.loads(_cli(raced_settings, "check-dataset", "--as-of", restatements[0],
                                "--json").stdout)  # fmt: skip
    assert by_ingest["watermark"] == watermark + 1
    assert by_ingest["dataset_id"] == current["dataset_id"]


def test_a_run_that_does_not_reproduce_fails_and_bad_values_are_clear(tmp_path: Path) -> None:
    settings = _workspace(tmp_path / "w")
    result = report_run.run_report(settings, ReportConfig.model_validate(CONFIG), actor="alice")
    run = result.run_instance_id
    forged = "f" * 64
    engine = create_db_engine(settings.db_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE runs SET dataset_id = :d"), {"d": forged})
    failed = _cli(settings, "check-dataset", "--as-of", run)
    assert failed.exit_code == 1, failed.output
    assert forged in failed.output and result.dataset.dataset_id.value in failed.output
    assert "not reproduced" in failed.stderr
    as_json = _cli(settings, "check-dataset", "--as-of", run, "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["reproduced"] is False

    latest = result.dataset.watermark
    for args, fragment in (
        (["--as-of", str(latest + 1)], f"watermark {latest + 1} is outside"),
        (["--as-of", "-1"], "watermark -1 is outside"),
        (["--as-of", "nope-nope"], "names no watermark, report run or ingest run"),
        (["--as-of", "ir_0000"], "names no ingest run"),
        (["--as-of", run, "--scope", "instruments"], "cannot be compared with another scope"),
        (["--as-of", "1", "--scope", "runs"], "runs keep no history"),
    ):
        bad = _cli(settings, "check-dataset", *args)
        assert bad.exit_code == 2, (args, bad.output)
        assert fragment in bad.stderr, (args, bad.stderr)
        assert "Traceback" not in bad.output
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE runs SET data_watermark = NULL"))
    older = _cli(settings, "check-dataset", "--as-of", run)
    assert older.exit_code == 2 and "recorded no data watermark" in older.stderr
    engine.dispose()
