"""Factor runs as files in the artifact store (revision 0016): identical on reuse, refused when
tampered with, rebuilt when lost, converted from the old long-format rows — on SQLite and
PostgreSQL, with the local and the S3 (moto) store, for the default and another tenant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from crypto_analyzer.artifacts import ArtifactStore, open_store
from crypto_analyzer.artifacts.factor_fit_file import FACTOR_RUNS_FOLDER
from crypto_analyzer.core.errors import ArtifactIntegrityError, DatabaseError
from crypto_analyzer.db.factor_rows import save_factor_frames
from crypto_analyzer.db.factor_runs import FactorFrames, find_factor_run
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.db.schema import factor_betas, factor_residuals, factor_runs
from crypto_analyzer.pipeline.factor_runs import MaterializedFactorFits, factor_run_config
from crypto_analyzer.research import FactorFit, factor_run_id, fit_factor_model

DATASET = "ds_" + "cd" * 32
IDS = ["x:BTC/USD", "x:ETH/USD"]


def _returns(seed: int = 3, n_times: int = 300, n_assets: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    factors = rng.normal(0.0, 0.01, (n_times, 2))
    values = factors @ rng.normal(1.0, 0.3, (2, n_assets))
    values += rng.normal(0.0, 0.005, (n_times, n_assets))
    frame = pd.DataFrame(
        np.column_stack([factors, values]),
        index=pd.Index(1_700_000_000_000 + 3_600_000 * np.arange(n_times), name="bar_open_ms"),
        columns=[*IDS, *[f"x:A{j}/USD" for j in range(n_assets)]],
    )
    frame.iloc[5:40, 3] = np.nan  # a listing gap
    frame.columns.name = "instrument_id"  # as panel_from_bars names them; reuse keeps it
    return frame


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _same_fit(got: FactorFit, want: FactorFit) -> None:
    assert list(got.betas) == list(want.betas)
    for factor, beta in want.betas.items():
        pd.testing.assert_frame_equal(got.betas[factor], beta, check_exact=True)
    pd.testing.assert_frame_equal(got.alpha, want.alpha, check_exact=True)
    assert got.r2 is not None and want.r2 is not None
    pd.testing.assert_frame_equal(got.r2, want.r2, check_exact=True)
    pd.testing.assert_frame_equal(got.residuals, want.residuals, check_exact=True)
    assert got.config == want.config


def _fits(
    engine: sa.Engine, store: ArtifactStore | None, tenant: str = "default"
) -> MaterializedFactorFits:
    return MaterializedFactorFits(
        engine, tenant_id=tenant, dataset_id=DATASET, freq="1h", store=store
    )


@pytest.fixture
def engine(backend_engine: sa.Engine) -> sa.Engine:
    upgrade(backend_engine)
    return backend_engine


@pytest.fixture
def store(store_url: tuple[str, dict[str, object]]) -> ArtifactStore:
    url, options = store_url
    return open_store(url, **options)


@pytest.fixture
def local_store(tmp_path: Path) -> ArtifactStore:
    return open_store(f"file://{tmp_path / 'artifacts'}")


def test_reuse_reads_the_file_and_equals_the_refit(engine: sa.Engine, store: ArtifactStore) -> None:
    returns = _returns()
    first = _fits(engine, store)
    fresh = first(returns, factor_ids=IDS, window=48, lag=1)
    second = _fits(engine, store)
    reused = second(returns, factor_ids=IDS, window=48, lag=1)

    assert [use.reused for use in first.used + second.used] == [False, True]
    assert fresh.n_obs is None and reused.n_obs is None  # counts are neither stored nor served
    _same_fit(reused, fresh)
    recomputed = fit_factor_model(returns, factor_ids=IDS, window=48, lag=1)
    _same_fit(reused, recomputed)  # reuse == recompute, bit for bit
    run_id = factor_run_id(factor_run_config(fresh.config, "1h"), DATASET)
    run = find_factor_run(engine, tenant_id="default", factor_run_id=run_id)
    assert run is not None and run.kind == "artifact" and run.dataset_id == DATASET
    assert run.artifact_key == f"{FACTOR_RUNS_FOLDER}{run.artifact_sha256}.arrow"
    assert store.ref(run.artifact_key).sha256 == run.artifact_sha256
    assert run.artifact_size == len(store.get(run.artifact_key))
    # the database holds the identity only: no long-format rows
    assert [_count(engine, t) for t in (factor_runs, factor_betas, factor_residuals)] == [1, 0, 0]


def test_a_tampered_file_is_refused(
    engine: sa.Engine, local_store: ArtifactStore, tmp_path: Path
) -> None:
    returns = _returns()
    _fits(engine, local_store)(returns, factor_ids=IDS, window=48, lag=1)
    (key,) = local_store.list(FACTOR_RUNS_FOLDER)
    path = tmp_path / "artifacts" / key
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit inside the compressed values
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError, match="changed after it was written"):
        _fits(engine, local_store)(returns, factor_ids=IDS, window=48, lag=1)


def test_a_file_whose_values_differ_from_the_recorded_digest_is_refused(
    engine: sa.Engine, store: ArtifactStore
) -> None:
    returns = _returns()
    _fits(engine, store)(returns, factor_ids=IDS, window=48, lag=1)
    with engine.begin() as connection:  # e.g. a row edited to vouch for other values
        connection.execute(sa.update(factor_runs).values(values_digest="0" * 64))
    with pytest.raises(ArtifactIntegrityError, match="the run recorded 0000"):
        _fits(engine, store)(returns, factor_ids=IDS, window=48, lag=1)


def test_a_lost_file_is_recomputed_verified_and_restored(
    engine: sa.Engine, local_store: ArtifactStore, tmp_path: Path
) -> None:
    returns = _returns()
    fresh = _fits(engine, local_store)(returns, factor_ids=IDS, window=48, lag=1)
    (key,) = local_store.list(FACTOR_RUNS_FOLDER)
    original = local_store.get(key)
    (tmp_path / "artifacts" / key).unlink()
    again = _fits(engine, local_store)
    _same_fit(again(returns, factor_ids=IDS, window=48, lag=1), fresh)
    assert again.used[0].reused
    assert local_store.get(key) == original  # the same bytes under the same content address


def test_without_a_store_the_digest_verifies_a_refit_and_a_store_later_gets_the_file(
    engine: sa.Engine, store: ArtifactStore
) -> None:
    returns = _returns()
    fresh = _fits(engine, None)(returns, factor_ids=IDS, window=48, lag=1)
    run_id = factor_run_id(factor_run_config(fresh.config, "1h"), DATASET)
    run = find_factor_run(engine, tenant_id="default", factor_run_id=run_id)
    assert run is not None and run.kind == "digest"
    _same_fit(_fits(engine, None)(returns, factor_ids=IDS, window=48, lag=1), fresh)

    _same_fit(_fits(engine, store)(returns, factor_ids=IDS, window=48, lag=1), fresh)
    run = find_factor_run(engine, tenant_id="default", factor_run_id=run_id)
    assert run is not None and run.kind == "artifact" and store.exists(str(run.artifact_key))

    changed = returns.copy()
    changed.iloc[200, 4] += 0.01  # other data under the same run id: the refit cannot match
    with engine.begin() as connection:
        connection.execute(
            sa.update(factor_runs).values(
                artifact_key=None, artifact_sha256=None, artifact_size=None
            )
        )
    with pytest.raises(ArtifactIntegrityError, match="recomputed fit has values digest"):
        _fits(engine, None)(changed, factor_ids=IDS, window=48, lag=1)


def test_a_run_stored_as_rows_is_read_then_converted(
    engine: sa.Engine, store: ArtifactStore
) -> None:
    returns = _returns()
    fit = fit_factor_model(returns, factor_ids=IDS, window=48, lag=1)
    run_config = factor_run_config(fit.config, "1h")
    run_id = factor_run_id(run_config, DATASET)
    save_factor_frames(
        engine,
        tenant_id="default",
        factor_run_id=run_id,
        dataset_id=DATASET,
        config=run_config,
        fit=FactorFrames(fit.betas, fit.alpha, fit.r2, fit.residuals),
    )
    legacy = find_factor_run(engine, tenant_id="default", factor_run_id=run_id)
    assert legacy is not None and legacy.kind == "legacy" and _count(engine, factor_betas) > 0

    converting = _fits(engine, store)
    _same_fit(converting(returns, factor_ids=IDS, window=48, lag=1), fit)
    assert converting.used[0].reused
    converted = find_factor_run(engine, tenant_id="default", factor_run_id=run_id)
    assert converted is not None and converted.kind == "artifact"
    assert converted.created_at == legacy.created_at and converted.config == legacy.config
    assert [_count(engine, t) for t in (factor_betas, factor_residuals)] == [0, 0]
    _same_fit(_fits(engine, store)(returns, factor_ids=IDS, window=48, lag=1), fit)  # from file


def test_another_tenant_keeps_its_files_in_its_own_folder(
    engine: sa.Engine, store: ArtifactStore
) -> None:
    returns = _returns()
    fresh = _fits(engine, store, "desk-a")(returns, factor_ids=IDS, window=48, lag=1)
    (key,) = store.list("tenants/desk-a/")
    assert key.startswith(f"tenants/desk-a/{FACTOR_RUNS_FOLDER}")
    assert store.list(FACTOR_RUNS_FOLDER) == []
    default = _fits(engine, store)  # same id in another tenant is another run
    default(returns, factor_ids=IDS, window=48, lag=1)
    assert not default.used[0].reused
    _same_fit(_fits(engine, store, "desk-a")(returns, factor_ids=IDS, window=48, lag=1), fresh)


def test_a_file_fitted_on_another_grid_is_refused(engine: sa.Engine, store: ArtifactStore) -> None:
    returns = _returns()
    _fits(engine, store)(returns, factor_ids=IDS, window=48, lag=1)
    with pytest.raises(DatabaseError, match="another bar grid"):
        _fits(engine, store)(returns.iloc[:200], factor_ids=IDS, window=48, lag=1)
