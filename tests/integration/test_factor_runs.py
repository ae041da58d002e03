"""Factor runs: stored once under their content id, read back exactly, reused, all or nothing.

The long-format rows (``db.factor_rows``) are the layout before revision 0016, still read and
converted; ``test_factor_run_artifacts.py`` covers the file layout every new run uses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from crypto_analyzer.core.errors import DatabaseError, ValidationError
from crypto_analyzer.db.factor_rows import load_factor_frames, save_factor_frames
from crypto_analyzer.db.factor_runs import FactorFrames
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.db.schema import factor_betas, factor_residuals, factor_runs
from crypto_analyzer.pipeline.factor_runs import MaterializedFactorFits, factor_run_config
from crypto_analyzer.research import factor_run_id, fit_factor_model

DATASET = "ds_" + "ab" * 32


def _returns(seed: int = 3, n_times: int = 300, n_assets: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    factors = rng.normal(0.0, 0.01, (n_times, 2))
    loads = rng.normal(1.0, 0.3, (2, n_assets))
    values = factors @ loads + rng.normal(0.0, 0.005, (n_times, n_assets))
    frame = pd.DataFrame(
        np.column_stack([factors, values]),
        index=pd.Index(1_700_000_000_000 + 3_600_000 * np.arange(n_times), name="bar_open_ms"),
        columns=["x:BTC/USD", "x:ETH/USD", *[f"x:A{j}/USD" for j in range(n_assets)]],
    )
    frame.iloc[5:40, 3] = np.nan  # a listing gap: NaN estimates must survive the round trip
    return frame


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


@pytest.fixture
def engine(backend_engine: sa.Engine) -> sa.Engine:
    upgrade(backend_engine)
    return backend_engine


def test_round_trip_is_exact_including_gaps(engine: sa.Engine) -> None:
    returns = _returns()
    fit = fit_factor_model(returns, factor_ids=["x:BTC/USD", "x:ETH/USD"], window=48, lag=1)
    frames = FactorFrames(fit.betas, fit.alpha, fit.r2, fit.residuals)
    save_factor_frames(engine, tenant_id="default", factor_run_id="f1", dataset_id=DATASET,
                       config=fit.config, fit=frames)  # fmt: skip
    back = load_factor_frames(
        engine,
        tenant_id="default",
        factor_run_id="f1",
        index=returns.index,
        assets=fit.residuals.columns,
        factor_ids=["x:BTC/USD", "x:ETH/USD"],
    )
    for factor, beta in fit.betas.items():
        pd.testing.assert_frame_equal(back.betas[factor], beta, check_exact=True)
    pd.testing.assert_frame_equal(back.alpha, fit.alpha, check_exact=True)
    pd.testing.assert_frame_equal(back.r2, fit.r2, check_exact=True)
    pd.testing.assert_frame_equal(back.residuals, fit.residuals, check_exact=True)
    finite_betas = sum(int(b.notna().to_numpy().sum()) for b in fit.betas.values())
    assert _count(engine, factor_betas) == finite_betas  # warm-up NaNs are not stored as rows
    assert 0 < finite_betas < 2 * fit.residuals.size


def test_second_use_reads_the_stored_run_instead_of_fitting(engine: sa.Engine) -> None:
    returns = _returns()
    ids = ["x:BTC/USD", "x:ETH/USD"]
    first = MaterializedFactorFits(engine, tenant_id="default", dataset_id=DATASET, freq="1h")
    fresh = first(returns, factor_ids=ids, window=48, lag=1)
    second = MaterializedFactorFits(engine, tenant_id="default", dataset_id=DATASET, freq="1h")
    reused = second(returns, factor_ids=ids, window=48, lag=1)

    assert [use.reused for use in first.used + second.used] == [False, True]
    run_id = first.used[0].factor_run_id
    assert second.used[0].factor_run_id == run_id
    assert run_id == factor_run_id(factor_run_config(fresh.config, "1h"), DATASET)
    pd.testing.assert_frame_equal(reused.residuals, fresh.residuals, check_exact=True)
    assert reused.config == fresh.config
    with engine.connect() as connection:
        row = connection.execute(sa.select(factor_runs)).mappings().one()
    assert row["dataset_id"] == DATASET and row["status"] == "succeeded"
    assert json.loads(row["config_json"]) == {"fit": fresh.config, "bars": {"freq": "1h"}}

    other = MaterializedFactorFits(engine, tenant_id="default", dataset_id=DATASET, freq="1h")
    other(returns, factor_ids=ids, window=72, lag=1)  # another config is another run
    other(returns, factor_ids=ids, window=48, lag=1)
    assert [use.reused for use in other.used] == [False, True]
    assert _count(engine, factor_runs) == 2


def test_a_failed_write_leaves_no_trace(engine: sa.Engine) -> None:
    returns = _returns()
    fit = fit_factor_model(returns, factor_ids=["x:BTC/USD", "x:ETH/USD"], window=48, lag=1)

    # The run row and the first betas go in; a repeated asset then breaks the betas' key.
    def dup(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.rename(columns={"x:A3/USD": "x:A2/USD"})

    betas = {factor: dup(beta) for factor, beta in fit.betas.items()}
    frames = FactorFrames(betas, dup(fit.alpha), dup(fit.r2), dup(fit.residuals))
    with pytest.raises(DatabaseError, match="nothing of the run was kept"):
        save_factor_frames(engine, tenant_id="default", factor_run_id="f1", dataset_id=DATASET,
                           config=fit.config, fit=frames)  # fmt: skip
    assert [_count(engine, t) for t in (factor_runs, factor_betas, factor_residuals)] == [0, 0, 0]


def test_asset_and_factor_names_must_be_text(engine: sa.Engine) -> None:
    returns = _returns()
    fit = fit_factor_model(returns, factor_ids=["x:BTC/USD", "x:ETH/USD"], window=48, lag=1)
    unnamed = fit.residuals.rename(columns={"x:A3/USD": None})  # pandas turns it into NaN
    frames = FactorFrames(fit.betas, fit.alpha, fit.r2, unnamed)
    with pytest.raises(ValidationError, match="instrument ids"):
        save_factor_frames(engine, tenant_id="default", factor_run_id="f1", dataset_id=DATASET,
                           config=fit.config, fit=frames)  # fmt: skip
    assert _count(engine, factor_runs) == 0


def test_loading_onto_other_data_refuses(engine: sa.Engine) -> None:
    returns = _returns()
    fit = fit_factor_model(returns, factor_ids=["x:BTC/USD", "x:ETH/USD"], window=48, lag=1)
    save_factor_frames(engine, tenant_id="default", factor_run_id="f1", dataset_id=DATASET,
                       config=fit.config,
                       fit=FactorFrames(fit.betas, fit.alpha, fit.r2, fit.residuals))  # fmt: skip
    with pytest.raises(DatabaseError, match="outside the panel"):
        load_factor_frames(
            engine,
            tenant_id="default",
            factor_run_id="f1",
            index=returns.index[:100],
            assets=fit.residuals.columns,
            factor_ids=["x:BTC/USD", "x:ETH/USD"],
        )


def test_report_reuses_the_factor_run_with_identical_results(tmp_path: Path) -> None:
    from crypto_analyzer.core.settings import load_settings
    from crypto_analyzer.db.engine import create_db_engine
    from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
    from crypto_analyzer.pipeline.report.config import ReportConfig
    from crypto_analyzer.pipeline.report.run import run_report
    from crypto_analyzer.pipeline.workspace import init_workspace

    settings = load_settings(
        db_url=f"sqlite:///{tmp_path / 'w.sqlite'}", artifacts=f"file://{tmp_path / 'art'}"
    )
    init_workspace(settings)
    engine = create_db_engine(settings.db_url)
    ingest_synthetic(engine, SyntheticMarketConfig(assets=12, days=60, seed=5))
    config = ReportConfig.model_validate(
        {
            "signals": ["clean_momentum", "momentum_24h", "low_vol"],
            "horizons": [1, 4],
            "min_assets": 5,
            "factor_window": 120,
            "splits": {"test_size": 240, "min_train_size": 480, "embargo": 4},
            "procedures": {"bootstrap_reps": 100, "pbo_blocks": 8},
        }
    )
    first = run_report(settings, config, actor="alice")
    second = run_report(settings, config, actor="alice")
    assert first.summary["factor_run_ids"] == second.summary["factor_run_ids"]
    assert len(first.summary["factor_run_ids"]) == 1
    assert _count(engine, factor_runs) == 1
    assert _count(engine, factor_residuals) == 0  # the values are not rows any more
    with engine.connect() as connection:
        digest = connection.execute(sa.select(factor_runs.c.values_digest)).scalar_one()
    assert digest is not None and len(digest) == 64
    hashes = [{a["name"]: a["sha256"] for a in r.manifest["artifacts"]} for r in (first, second)]
    for name in ("ic/summary.json", "ic/oos_ic.csv", "portfolio/net_returns.csv"):
        assert hashes[0][name] == hashes[1][name], name
    engine.dispose()


def test_materialize_factors_cli_stores_then_reuses_and_refuses_bad_input(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from crypto_analyzer.cli.app import app
    from crypto_analyzer.db.engine import create_db_engine
    from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic

    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert runner.invoke(app, ["--db", url, "init"]).exit_code == 0
    engine = create_db_engine(url)
    ingest_synthetic(engine, SyntheticMarketConfig(assets=6, days=10, seed=2))
    args = ["materialize", "factors", "--db", url, "--window", "48", "--json"]
    first = json.loads(runner.invoke(app, args).stdout)
    second = json.loads(runner.invoke(app, args).stdout)
    assert (first["reused"], second["reused"]) == (False, True)
    assert first["factor_run_id"] == second["factor_run_id"]
    assert first["factor_ids"] == ["synthetic:BTC/USD", "synthetic:ETH/USD"]
    assert first["n_assets"] == 4
    assert _count(engine, factor_runs) == 1

    unknown = runner.invoke(app, ["materialize", "factors", "--db", url, "--factors", "x:NOPE"])
    assert unknown.exit_code == 2 and "x:NOPE" in unknown.output
    too_long = runner.invoke(app, ["materialize", "factors", "--db", url, "--window", "100000"])
    assert too_long.exit_code == 2 and "longer than" in too_long.output
    assert _count(engine, factor_runs) == 1  # refused inputs store nothing
    engine.dispose()


def test_a_run_not_marked_succeeded_is_never_reused(engine: sa.Engine) -> None:
    returns = _returns()
    ids = ["x:BTC/USD", "x:ETH/USD"]
    fits = MaterializedFactorFits(engine, tenant_id="default", dataset_id=DATASET, freq="1h")
    fits(returns, factor_ids=ids, window=48, lag=1)
    with engine.begin() as connection:  # e.g. written by a foreign tool
        connection.execute(sa.update(factor_runs).values(status="failed"))
    again = MaterializedFactorFits(engine, tenant_id="default", dataset_id=DATASET, freq="1h")
    with pytest.raises(DatabaseError, match="not succeeded"):
        again(returns, factor_ids=ids, window=48, lag=1)
