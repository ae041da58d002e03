"""``crypto-analyzer sweep``: a grid of hypotheses evaluated anywhere, recorded by the client only.

Order of work, mirroring the report: identity first (STRICT dataset id with its watermark, the
sweep's run key), the data as of that watermark, the ``runs`` row (tag ``sweep``), then the
chunks. Each finished chunk is, in this order, appended to the trial ledger (so a trial counts
from the moment its numbers exist, even if the client dies the next instant) and checkpointed in
the store (so ``--resume`` need not recompute it). A chunk whose checkpoint is missing is simply
recomputed — the same bytes, and its ledger rows counted once by ``trial_key``. When every chunk
is in, the family statistics are computed over all trials in trial order, the artifacts are
written with lineage, and one transaction records lineage, the sweep's family and hypothesis rows
and closes the run. Workers compute; they never write to the database or the store.

``--resume SWEEP`` starts a new execution of the sweep run ``SWEEP`` (same resolved config, same
data — refused if the dataset changed), loads the chunks already checkpointed, appends their
trials under the new run too (the ledger counts them once), and evaluates only the rest.
"""

from __future__ import annotations

from typing import Any

from crypto_analyzer.artifacts.store import ArtifactStore, open_settings_store
from crypto_analyzer.core.clock import now, to_iso
from crypto_analyzer.core.errors import CryptoAnalyzerError, ValidationError
from crypto_analyzer.core.identities import DatasetMode, config_digest, run_key
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.dataset_id import compute_dataset_id
from crypto_analyzer.db.lineage import record_lineage
from crypto_analyzer.db.loaders import load_bars, load_instruments
from crypto_analyzer.db.migrate import require_head
from crypto_analyzer.db.record_keys import engine_key, writer_key
from crypto_analyzer.db.registry import finish_run, get_run, record_run_artifact
from crypto_analyzer.db.run_liveness import start_run_instance
from crypto_analyzer.db.trial_ledger import NewTrial, append_trials
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.governance.checkpoints import anchor
from crypto_analyzer.pipeline.report.writer import RunArtifacts
from crypto_analyzer.pipeline.sweep.evaluate import SweepData, TrialOutcome, decode_chunk
from crypto_analyzer.pipeline.sweep.executor import ChunkTask, Executor, InProcessExecutor
from crypto_analyzer.pipeline.sweep.family import SweepFamily, sweep_family
from crypto_analyzer.pipeline.sweep.result import SweepResult
from crypto_analyzer.pipeline.sweep.spec import (
    SweepConfig,
    TrialSpec,
    expand_trials,
    parse_sweep_config,
)
from crypto_analyzer.pipeline.sweep.store import (
    checkpoint_key,
    checkpoint_prefix,
    record_sweep_rows,
    series_table_bytes,
    stored_checkpoints,
    trial_table_bytes,
)

__all__ = ["SWEEP_TAG", "SweepProgress", "SweepResult", "run_sweep"]

SWEEP_TAG = "sweep"


class SweepProgress:
    """Callbacks the CLI renders; the default does nothing."""

    def started(self, run_instance_id: str, total: int, done: int, executor: str) -> None:
        """The run row exists; ``done`` of ``total`` trials come from checkpoints."""

    def chunk_done(self, n_trials: int) -> None:
        """A chunk of ``n_trials`` trials has been recorded."""

    def step(self, message: str) -> None:
        """A phase of the run has started."""


def _chunks(trials: tuple[TrialSpec, ...], size: int) -> list[tuple[TrialSpec, ...]]:
    return [trials[start : start + size] for start in range(0, len(trials), size)]


def _ledger_rows(
    outcomes: list[TrialOutcome],
    *,
    run_instance_id: str,
    dataset_id: str,
    watermark: int | None,
    config: SweepConfig,
    n_trials: int,
) -> list[NewTrial]:
    # Appended as chunks finish, before the sweep-wide correlation is known: each trial counts
    # as independent (family_n_eff = family_size), the conservative direction.
    return [
        NewTrial(
            run_instance_id=run_instance_id,
            run_key=item.run_key,
            dataset_id=dataset_id,
            data_watermark=watermark,
            signal=item.spec.signal,
            params=dict(item.spec.params),
            horizon=item.spec.horizon,
            freq=config.freq,
            instruments=item.assets,
            start_ms=item.start_ms,
            end_ms=item.end_ms,
            sharpe=item.sharpe,
            skewness=item.skewness,
            kurtosis=item.kurtosis,
            n_returns=item.n_returns,
            ic_mean=item.ic_mean,
            ic_t=item.t_hac,
            p_value=item.p_value,
            n_obs=item.n_obs,
            family_size=n_trials,
            family_n_eff=float(n_trials),
            variant=item.spec.variant,
        )
        for item in outcomes
    ]


def _resume_config(engine: Any, settings: Settings, sweep_id: str) -> tuple[SweepConfig, str]:
    previous = get_run(engine, settings.tenant, sweep_id)
    if SWEEP_TAG not in previous.tags or "sweep" not in previous.config:
        raise ValidationError(
            f"run {previous.run_instance_id} is not a sweep run", "give the id a sweep printed"
        )
    config = parse_sweep_config(previous.config["sweep"])
    if previous.hypothesis:
        config = config.model_copy(update={"name": previous.hypothesis})
    return config, previous.run_instance_id


def run_sweep(
    settings: Settings,
    config: SweepConfig | None,
    *,
    actor: str,
    resume: str | None = None,
    executor: Executor | None = None,
    store: ArtifactStore | None = None,
    progress: SweepProgress | None = None,
) -> SweepResult:
    """Run (or with ``resume``, continue) a sweep for the configured workspace and tenant."""
    if (config is None) == (resume is None):
        raise ValidationError("give a sweep config or a sweep to resume, not both or neither")
    report = progress or SweepProgress()
    runner = executor or InProcessExecutor()
    artifacts_store = store or open_settings_store(settings)
    tenant = settings.tenant
    with open_engine(settings, read_only=False) as engine:
        require_head(engine)
        service_key = engine_key(engine)
        with engine.connect() as connection:
            writer_key(connection, tenant, service_key, what="a sweep (its trial ledger)")
        resumed_from = None
        if resume is not None:
            config, resumed_from = _resume_config(engine, settings, resume)
        assert config is not None
        report.step("dataset identity")
        dataset = compute_dataset_id(engine, tenant_id=tenant)
        if dataset.mode is not DatasetMode.STRICT:  # pragma: no cover - compute default is STRICT
            raise CryptoAnalyzerError("sweeps need a STRICT dataset id")
        resolved = config.resolved()
        key = run_key(dataset.dataset_id, resolved)
        if resumed_from is not None:
            previous = get_run(engine, tenant, resumed_from)
            if previous.run_key != key:
                raise ValidationError(
                    f"sweep {resumed_from} ran on dataset {previous.dataset_id[:16]}; the data is "
                    f"now {dataset.dataset_id.value[:16]}, so its chunks cannot be reused",
                    "start the sweep again with --config (it is a new search on new data)",
                )
        watermark = dataset.watermark
        data = SweepData(
            dataset_id=dataset.dataset_id.value,
            bars=load_bars(engine, tenant_id=tenant, freq=config.freq, as_of=watermark),
            instruments=load_instruments(engine, tenant_id=tenant, as_of=watermark),
        )
        if data.bars.empty:
            raise ValidationError(
                f"the dataset has no {config.freq} bars", "ingest bars or change `freq`"
            )
        data.check_universes(config)
        trials = expand_trials(config)
        chunks = _chunks(trials, config.chunk_size)
        prefix = checkpoint_prefix(tenant, key, config.chunk_size)
        loaded = stored_checkpoints(artifacts_store, prefix, len(chunks)) if resume else {}
        started = start_run_instance(
            engine,
            tenant_id=tenant,
            run_key=key,
            dataset_id=dataset.dataset_id,
            config=resolved,
            actor=actor,
            hypothesis=config.name,
            tags=(SWEEP_TAG,),
            data_watermark=watermark,
        )
        instance = started.run_instance_id
        outcomes: dict[int, list[TrialOutcome]] = {}

        def record(index: int, chunk: bytes, *, fresh: bool) -> None:
            items = decode_chunk(chunk, sweep_run_key=key, chunk_index=index, trials=chunks[index])
            rows = _ledger_rows(
                items,
                run_instance_id=instance,
                dataset_id=data.dataset_id,
                watermark=watermark,
                config=config,
                n_trials=len(trials),
            )
            append_trials(engine, tenant, rows, created_at=to_iso(now()), service_key=service_key)
            if fresh:  # ledger first: a trial counts even if the checkpoint never gets written
                artifacts_store.put(checkpoint_key(prefix, index), chunk)
            outcomes[index] = items
            report.chunk_done(len(items))

        try:
            report.started(
                instance, len(trials), sum(len(chunks[i]) for i in loaded), runner.description
            )
            for index in sorted(loaded):
                record(index, loaded[index], fresh=False)
            tasks = [
                ChunkTask(index, tuple(trial.to_dict() for trial in chunk))
                for index, chunk in enumerate(chunks)
                if index not in loaded
            ]
            report.step(f"evaluating {len(tasks)} chunk(s) ({runner.description})")
            runner.run(
                data, resolved, key, tasks, lambda index, chunk: record(index, chunk, fresh=True)
            )
            missing = sorted(set(range(len(chunks))) - set(outcomes))
            if missing:
                raise CryptoAnalyzerError(f"chunks {missing[:5]} never returned a result")
            everything = [item for index in sorted(outcomes) for item in outcomes[index]]
            report.step("family statistics")
            family = sweep_family(config, everything, sweep_run_key=key)
            report.step("artifacts")
            written = _write(artifacts_store, instance, resolved, everything, family, key, dataset)
            with engine.begin() as connection:
                record_lineage(
                    connection,
                    tenant_id=tenant,
                    run_instance_id=instance,
                    records=written.records,
                    edges=written.edges,
                )
                for name, ref in sorted(written.refs.items()):
                    record_run_artifact(
                        connection,
                        tenant_id=tenant,
                        run_instance_id=instance,
                        name=name,
                        sha256=ref.sha256,
                        uri=ref.uri,
                        media_type=written.media_type(name),
                        size_bytes=ref.size,
                    )
                record_sweep_rows(
                    connection,
                    tenant_id=tenant,
                    run_instance_id=instance,
                    name=config.name,
                    outcomes=everything,
                    created_at=to_iso(now()),
                )
                finish_run(
                    connection,
                    tenant_id=tenant,
                    run_instance_id=instance,
                    status="succeeded",
                    metrics=_metrics(family),
                )
        except BaseException as exc:
            with engine.begin() as connection:
                finish_run(
                    connection,
                    tenant_id=tenant,
                    run_instance_id=instance,
                    status="failed",
                    error=f"{type(exc).__name__}: {exc}"[:2000],
                )
            raise
        finally:
            if outcomes:
                anchor(engine, artifacts_store, tenant, service_key)
    return SweepResult(
        run_instance_id=instance,
        run_key=key,
        dataset_id=data.dataset_id,
        n_trials=len(trials),
        n_chunks=len(chunks),
        chunks_evaluated=len(tasks),
        chunks_resumed=len(loaded),
        resumed_from=resumed_from,
        executor=runner.description,
        family=family,
        trials=tuple(everything),
        artifacts={name: ref.sha256 for name, ref in written.refs.items()},
    )


def _metrics(family: SweepFamily) -> dict[str, float | None]:
    return {
        "sweep.n_trials": float(family.n_trials),
        "sweep.rc_p": family.family.reality_check.p_value if family.family else None,
        "sweep.spa_p": family.family.spa.pvalue_consistent if family.family else None,
        "sweep.pbo": family.pbo.pbo if family.pbo else None,
        "sweep.effective_trials": family.effective_trials,
    }


def _write(
    store: ArtifactStore,
    instance: str,
    resolved: dict[str, Any],
    outcomes: list[TrialOutcome],
    family: SweepFamily,
    key: str,
    dataset: Any,
) -> RunArtifacts:
    written = RunArtifacts(store, instance)
    base = (("uses_dataset", dataset.dataset_id.value), ("uses_config", config_digest(resolved)))
    written.put_json("config.json", resolved, artifact_type="config", edges=base)
    written.put(
        "sweep/trials.parquet",
        trial_table_bytes(outcomes, family),
        artifact_type="sweep_trials",
        schema_version="1",
        edges=base,
    )
    written.put(
        "sweep/series.parquet",
        series_table_bytes(outcomes),
        artifact_type="sweep_series",
        schema_version="1",
        edges=base,
    )
    written.put_json(
        "sweep/family.json",
        {**family.to_dict(), "run_key": key},
        artifact_type="sweep_family",
        schema_version="1",
        edges=(("derived_from", "sweep/series.parquet"),),
    )
    written.put_manifest(edges=base)
    return written
