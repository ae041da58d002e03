"""A sweep records its run, family, hypotheses and every trial on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sweep_workspace import count, grid, workspace

from crypto_analyzer.core.service_key import create_service_key
from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.trial_ledger import read_trials, verify_ledger
from crypto_analyzer.pipeline.sweep import parse_sweep_config, run_sweep


def test_a_sweep_is_recorded_on_each_backend(
    backend_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = tmp_path / "service-host"
    host.mkdir()
    key = create_service_key(host / "service.key")
    monkeypatch.setenv("CRYPTO_ANALYZER_SERVICE_KEY_FILE", str(key.path))
    reset_settings_cache()
    settings = workspace(tmp_path / "w", db_url=backend_url)
    mapping = grid(large=False, chunk_size=16)
    mapping["signals"] = mapping["signals"][1:]  # volume_shock only: 24 trials
    result = run_sweep(settings, parse_sweep_config(mapping), actor="alice")
    assert result.n_trials == 24 and result.chunks_evaluated == 2
    sweep_id = result.run_instance_id
    assert count(settings, "SELECT COUNT(*) FROM sweep_hypotheses WHERE family_id = :f",
                 f=sweep_id) == 24  # fmt: skip
    assert count(settings, "SELECT COUNT(*) FROM runs WHERE run_instance_id = :r AND status = "
                 "'succeeded' AND tags_json LIKE '%sweep%'", r=sweep_id) == 1  # fmt: skip
    engine = create_db_engine(settings.db_url)
    try:
        with engine.connect() as connection:
            trials = read_trials(connection, "default", run_instance_id=sweep_id)
            assert verify_ledger(read_trials(connection, "default")) == []
    finally:
        engine.dispose()
    assert len(trials) == 24 and all(trial.mac and trial.mac_key_id == key.key_id
                                     for trial in trials)  # fmt: skip
    # The first5 universe's trials are on its five instruments only.
    small = [t for t in trials if t.n_instruments == 5]
    assert len(small) == 12
