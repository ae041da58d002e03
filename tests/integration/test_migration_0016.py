"""Revision 0016: factor run values move to the artifact store. A run stored as rows before it
survives the upgrade readable and is converted on first reuse; the downgrade keeps row-stored runs
and drops the ones the old layout cannot read — on SQLite and PostgreSQL, idempotent, no drift."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from alembic import command

from crypto_analyzer.artifacts import open_store
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.factor_rows import save_factor_frames
from crypto_analyzer.db.factor_runs import FactorFrames, find_factor_run
from crypto_analyzer.db.migrate import alembic_config, schema_drift, upgrade
from crypto_analyzer.db.trigger_catalog import snapshot_catalog
from crypto_analyzer.pipeline.factor_runs import MaterializedFactorFits, factor_run_config
from crypto_analyzer.research import factor_run_id, fit_factor_model

DATASET = "ds_" + "ef" * 32
IDS = ["x:BTC/USD", "x:ETH/USD"]
NEW = {"values_digest", "artifact_key", "artifact_sha256", "artifact_size"}


def _down_to_0015(engine: sa.Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0015")


def _columns(engine: sa.Engine) -> set[str]:
    return {column["name"] for column in sa.inspect(engine).get_columns("factor_runs")}


def _rows(engine: sa.Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one())


def _returns(window_seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(window_seed)
    index = pd.Index(1_700_000_000_000 + 3_600_000 * np.arange(150), name="bar_open_ms")
    return pd.DataFrame(
        rng.normal(0.0, 0.01, (150, 5)), index=index, columns=[*IDS, "x:A", "x:B", "x:C"]
    )


def test_0016_keeps_old_runs_readable_converts_them_and_round_trips(
    backend_url: str, tmp_path: Path
) -> None:
    engine = create_db_engine(backend_url)
    upgrade(engine, "0015")
    returns = _returns(1)
    fit = fit_factor_model(returns, factor_ids=IDS, window=24, lag=1)
    run_config = factor_run_config(fit.config, "1h")
    old_id = factor_run_id(run_config, DATASET)
    frames = FactorFrames(fit.betas, fit.alpha, fit.r2, fit.residuals)
    save_factor_frames(engine, tenant_id="default", factor_run_id=old_id, dataset_id=DATASET,
                       config=run_config, fit=frames)  # fmt: skip
    rows_before = _rows(engine, "factor_betas") + _rows(engine, "factor_residuals")
    with engine.connect() as connection:
        triggers_before = snapshot_catalog(connection)

    upgrade(engine, "0016")
    upgrade(engine, "0016")  # twice: converges
    assert _columns(engine) >= NEW
    with engine.connect() as connection:  # 0016 itself adds no trigger or function
        assert snapshot_catalog(connection) == triggers_before
    upgrade(engine)  # the later revisions on top
    assert schema_drift(engine) == []
    old = find_factor_run(engine, tenant_id="default", factor_run_id=old_id)
    assert old is not None and old.kind == "legacy"
    assert _rows(engine, "factor_betas") + _rows(engine, "factor_residuals") == rows_before > 0

    # a new run (a second config) is a file; the old one converts on first reuse
    store = open_store(f"file://{tmp_path / 'artifacts'}")
    fits = MaterializedFactorFits(
        engine, tenant_id="default", dataset_id=DATASET, freq="1h", store=store
    )
    reused = fits(returns, factor_ids=IDS, window=24, lag=1)
    fits(returns, factor_ids=IDS, window=36, lag=1)
    assert [use.reused for use in fits.used] == [True, False]
    pd.testing.assert_frame_equal(reused.residuals, fit.residuals, check_exact=True)
    assert _rows(engine, "factor_betas") + _rows(engine, "factor_residuals") == 0
    for use in fits.used:
        run = find_factor_run(engine, tenant_id="default", factor_run_id=use.factor_run_id)
        assert run is not None and run.kind == "artifact"

    # one more run stored the old way, then down: row-stored runs stay, file-backed ones go
    legacy_config = factor_run_config({**fit.config, "note": "legacy"}, "1h")
    legacy_id = factor_run_id(legacy_config, DATASET)
    save_factor_frames(engine, tenant_id="default", factor_run_id=legacy_id, dataset_id=DATASET,
                       config=legacy_config, fit=frames)  # fmt: skip
    _down_to_0015(engine)
    assert not (NEW & _columns(engine))
    with engine.connect() as connection:
        left = connection.exec_driver_sql("SELECT factor_run_id FROM factor_runs").scalars().all()
    assert left == [legacy_id]
    assert _rows(engine, "factor_betas") + _rows(engine, "factor_residuals") == rows_before

    upgrade(engine)  # and up again
    assert _columns(engine) >= NEW and schema_drift(engine) == []
    again = find_factor_run(engine, tenant_id="default", factor_run_id=legacy_id)
    assert again is not None and again.kind == "legacy"
    engine.dispose()
