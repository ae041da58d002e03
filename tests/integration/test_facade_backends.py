"""The notebook facade over SQLite and PostgreSQL: the same services as the CLI, results as
DataFrames with their labels, artifacts checked against their recorded hashes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crypto_analyzer as ca
from crypto_analyzer.core.errors import ConfigError, NotFoundError

CONFIG = {
    "signals": ["momentum_24h", "short_reversal"],
    "horizons": [1, 4],
    "min_assets": 5,
    "factor_window": 120,
    "splits": {"test_size": 240, "min_train_size": 480, "embargo": 4},
    "procedures": {"bootstrap_reps": 200, "pbo_blocks": 8},
}


def test_the_facade_end_to_end(backend_url: str, tmp_path: Path) -> None:
    workspace = ca.open_workspace(
        backend_url, artifacts=f"file://{tmp_path / 'art'}", create=True, sandbox=True
    )
    ingest = workspace.ingest_synthetic(assets=12, days=60, seed=5)
    assert ingest["n_accepted"] == 12 * 60 * 24
    times = pd.date_range("2024-01-01", periods=48, freq="1h", tz="UTC")
    close = 100 + np.cumsum(np.linspace(-0.5, 0.5, 48))
    frame = pd.DataFrame({"time": times, "open": close, "high": close + 1, "low": close - 1,
                          "close": close, "volume": 1000.0})  # fmt: skip
    imported = workspace.import_frame(frame, venue="kraken", symbol="XYZ/USD", freq="1h")
    assert imported.rows == 48
    with pytest.raises(TypeError, match="DataFrame"):
        workspace.import_frame(frame.to_numpy(), venue="kraken", symbol="XYZ/USD", freq="1h")

    with pytest.raises(ConfigError, match="signals"):
        workspace.run_report({**CONFIG, "signals": ["no_such_signal"]}, actor="researcher")
    result = workspace.run_report(ca.ReportConfig.model_validate(CONFIG), actor="researcher")
    assert result.dataset.dataset_id.value == workspace.dataset().dataset_id.value
    runs = workspace.runs()
    assert list(runs.index) == [result.run_instance_id] and runs.iloc[0]["status"] == "succeeded"

    run = result.run_instance_id[:12]  # prefixes work as on the CLI
    ic = workspace.ic_series(run)
    assert list(ic.columns) == ["momentum_24h@1", "momentum_24h@4", "short_reversal@1",
                                "short_reversal@4"]  # fmt: skip
    hypotheses = workspace.hypotheses(run)
    assert hypotheses.index.names == ["signal", "horizon"] and len(hypotheses) == 4
    assert hypotheses.loc[("momentum_24h", 1), "mean_ic"] == pytest.approx(
        ic["momentum_24h@1"].mean(), rel=1e-9, abs=1e-12
    )
    returns = workspace.portfolio_returns(run)
    assert set(returns.columns) == set(ic.columns)
    bundles = workspace.bundles(run)
    assert sorted(bundles.index) == ["momentum_24h", "short_reversal"]
    assert set(bundles["run_key"]) == {result.run_key}
    with pytest.raises(NotFoundError, match="no artifact"):
        workspace.artifact(run, "nothing.json")

    candidate = workspace.create_candidate(result.run_instance_id, "momentum_24h", 1,
                                           actor="researcher")  # fmt: skip
    evaluation = workspace.evaluate(candidate.candidate_id, target="candidate", actor="researcher")
    assert evaluation.report.level == "candidate"
    listed = workspace.candidates()
    assert list(listed.index) == [candidate.candidate_id]
    trace = workspace.trace(candidate.candidate_id)
    assert trace["events"][0]["event_type"] == "created"
    assert workspace.verify().ok


def test_a_tampered_artifact_is_refused_when_loaded(tmp_path: Path) -> None:
    workspace = ca.open_workspace(str(tmp_path / "ws"), create=True, sandbox=True)
    workspace.ingest_synthetic(assets=12, days=60, seed=5)
    result = workspace.run_report(CONFIG, actor="researcher")
    stored = next((tmp_path / "ws" / "artifacts").rglob("oos_ic.csv"))
    stored.chmod(0o644)
    stored.write_bytes(stored.read_bytes() + b"\n")
    with pytest.raises(NotFoundError, match="recorded SHA-256"):
        workspace.ic_series(result.run_instance_id)
