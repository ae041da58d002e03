"""``crypto-analyzer report``: one dataset + one config → a complete, traced validation.

Order of work: identity first (STRICT dataset id with its market watermark, run key, run instance
id, seeds), then the data as of that watermark (so the run uses exactly what its id names), then
the run row (``running``, recording the watermark, owned by this pid and host; this host's dead
runs are closed as ``interrupted`` first, and a rerun under a pinned clock takes the next free
instance id), then the computation, then the trials in the trial ledger, then every artifact
through the store with lineage, then one transaction that records lineage, run artifacts and
metrics and closes the run. A failure at any point closes the run as ``failed`` with the reason;
artifacts already stored stay (they are content-addressed and immutable) but nothing points at
them as a successful run's output: ``audit verify`` lists them as orphans. A governed workspace
without a service key is refused before any work: its trial-ledger rows must be keyed
(``db.record_keys``), and the new ledger head is anchored by a signed checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from crypto_analyzer.artifacts import ArtifactStore, open_settings_store
from crypto_analyzer.attest.keys import SigningKey
from crypto_analyzer.attest.statement import BUNDLE_PREDICATE, FOLD_CAUSALITY_PREDICATE
from crypto_analyzer.core.clock import now, to_iso
from crypto_analyzer.core.errors import CryptoAnalyzerError
from crypto_analyzer.core.identities import DatasetMode, config_digest, run_key
from crypto_analyzer.core.memory import release_free_memory
from crypto_analyzer.core.progress import ProgressSink, Stages
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.core.versions import ENGINE_VERSION, SPEC_VERSION
from crypto_analyzer.db.dataset_id import DatasetIdentity
from crypto_analyzer.db.lineage import LineageEdge, record_lineage
from crypto_analyzer.db.migrate import require_head
from crypto_analyzer.db.record_keys import engine_key, writer_key
from crypto_analyzer.db.registry import finish_run, record_run_artifact
from crypto_analyzer.db.run_liveness import start_run_instance
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.governance.evidence import (
    BUNDLE_SCHEMA_VERSION,
    HorizonEvidence,
    ValidationBundle,
    bundle_logical_name,
)
from crypto_analyzer.pipeline.factor_runs import MaterializedFactorFits
from crypto_analyzer.pipeline.report.bundle import (
    ATTESTATION_NAME,
    PROCEDURES_NAME,
    SPLIT_PLAN_NAME,
    build_bundle,
)
from crypto_analyzer.pipeline.report.compute import (
    COMPUTE_STAGES,
    ReportComputation,
    compute_report,
    hypothesis_id,
)
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.envelopes import put_envelope, report_signing_key
from crypto_analyzer.pipeline.report.inputs import read_report_inputs
from crypto_analyzer.pipeline.report.plugin_check import (
    PLUGIN_RECORD_NAME,
    check_signal_plugins,
    write_plugin_record,
)
from crypto_analyzer.pipeline.report.power import power_analysis
from crypto_analyzer.pipeline.report.preflight import PanelOnCalendar, effective_signals
from crypto_analyzer.pipeline.report.procedure_stage import procedure_rows, procedures_document
from crypto_analyzer.pipeline.report.render import render_html, render_markdown
from crypto_analyzer.pipeline.report.render_extras import render_extras
from crypto_analyzer.pipeline.report.report_figures import render_figures
from crypto_analyzer.pipeline.report.tearsheet_artifacts import write_tearsheets
from crypto_analyzer.pipeline.report.trials import record_trials, run_trials
from crypto_analyzer.pipeline.report.verdict_stage import VERDICT_NAME, VerdictJudge, report_verdict
from crypto_analyzer.pipeline.report.writer import RunArtifacts
from crypto_analyzer.stats import family_summary, pbo_summary

__all__ = ["REPORT_STAGES", "ReportResult", "run_report"]


@dataclass(frozen=True)
class ReportResult:
    """Where the run's outputs are and its headline numbers."""

    run_instance_id: str
    run_key: str
    dataset: DatasetIdentity
    summary: dict[str, Any]
    manifest: dict[str, Any]
    html_uri: str
    markdown_uri: str
    bundles: dict[str, ValidationBundle]

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_watermark": self.dataset.watermark,
            "dataset_id": self.dataset.dataset_id.value,
            "html": self.html_uri,
            "manifest": self.manifest,
            "markdown": self.markdown_uri,
            "run_instance_id": self.run_instance_id,
            "run_key": self.run_key,
            "summary": self.summary,
        }


Progress = Callable[[str], None]
REPORT_STAGES = (
    "dataset identity and bars",
    "signal plugin check",
    *COMPUTE_STAGES,
    "trial ledger",
    "artifacts",
)
"""The stages a report run counts in its progress display, in order."""


def run_report(
    settings: Settings,
    config: ReportConfig,
    *,
    actor: str,
    store: ArtifactStore | None = None,
    progress: Progress | None = None,
    dataset: DatasetIdentity | None = None,
    sink: ProgressSink | None = None,
    policy_path: Path | str | None = None,
) -> ReportResult:
    """Run the research report for the configured workspace and tenant.

    ``dataset``: the STRICT id of this workspace's data, when this process computed it already
    (e.g. the demo's dataset check); the report then reads only the bars it names. ``progress``
    receives a line per stage and note; ``sink`` counts the stages (:data:`REPORT_STAGES`) for a
    progress bar. ``policy_path`` is the policy the verdict judges with (default: the
    workspace's, as ``promotion evaluate`` uses it); a bad policy file stops the run before it
    starts.
    """
    message = progress or (lambda _message: None)
    tracker = Stages(sink, "report", REPORT_STAGES)

    def step(name: str) -> None:
        tracker.next(name)
        message(name)

    artifacts_store = store or open_settings_store(settings)
    with open_engine(settings, read_only=False) as engine:
        require_head(engine)
        judge = VerdictJudge.for_workspace(
            engine, artifacts_store, tenant_id=settings.tenant, actor=actor, policy_path=policy_path
        )
        service_key = engine_key(engine)
        with engine.connect() as connection:  # a governed run without a key stops here, not later
            writer_key(
                connection, settings.tenant, service_key, what="a report run (its trial ledger)"
            )
        signing_key = report_signing_key(engine, settings.tenant)  # refused now, not at the end
        step("dataset identity and bars")
        # The id and the data it names, from one read of the bars (or the id handed over),
        # as of its watermark even if an ingest commits meanwhile.
        inputs = read_report_inputs(
            engine, tenant_id=settings.tenant, freq=config.freq, dataset=dataset
        )
        dataset, bars, instruments = inputs.dataset, inputs.bars, inputs.instruments
        del inputs  # ``bars`` is now the only holder of the bar columns: released for the panel
        release_free_memory()  # what the read freed, before the panel is built
        if dataset.mode is not DatasetMode.STRICT:  # pragma: no cover - compute default is STRICT
            raise CryptoAnalyzerError("report runs need a STRICT dataset id")
        watermark = dataset.watermark
        step("signal plugin check")
        # A signal plugin that peeks at the future stops the run here, before any run row.
        plugin_record = check_signal_plugins(bars, config)
        resolved = config.resolved()
        key = run_key(dataset.dataset_id, resolved)
        started = start_run_instance(  # closes this host's dead runs, takes a free id
            engine,
            tenant_id=settings.tenant,
            run_key=key,
            dataset_id=dataset.dataset_id,
            config=resolved,
            actor=actor,
            hypothesis=config.hypothesis,
            tags=config.tags,
            data_watermark=watermark,
            dataset_tables=dataset.tables,
        )
        instance = started.run_instance_id
        for dead in started.closed:
            message(f"closed dead run {dead.run_instance_id} as interrupted")
        try:
            factor_fits = MaterializedFactorFits(
                engine,
                tenant_id=settings.tenant,
                dataset_id=dataset.dataset_id.value,
                freq=config.freq,
                store=artifacts_store,
            )
            # A config that does not fit the data is a ValidationError raised where it is
            # detected (the split plan); any other exception is an internal fault and surfaces
            # as one, never as a config error.
            # The panel is built here so the bars (the run's largest input) are released block
            # by block while it is built rather than held to the end of the run.
            on_calendar = PanelOnCalendar.build(bars, config, release=True)
            del bars
            release_free_memory()  # the bars' pages, before the fit and the signals
            computation = compute_report(
                on_calendar,
                instruments,
                config,
                run_key=key,
                dataset_id=dataset.dataset_id.value,
                fit_factors=factor_fits,
                stage=step,
            )
            del on_calendar
            release_free_memory()
            config = effective_signals(config, computation.signals)  # skipped: noted, not tested
            # Every hypothesis tested counts from now on, whatever happens to the rest of the run.
            step("trial ledger")
            history = record_trials(
                engine,
                tenant_id=settings.tenant,
                trials=run_trials(computation, config, key, instance, dataset),
                service_key=service_key,
                store=artifacts_store,
            )
            step("artifacts")
            written = RunArtifacts(artifacts_store, instance, settings.tenant)
            summary, bundles, metrics = _write_artifacts(
                written,
                computation,
                config,
                resolved,
                key,
                instance,
                dataset,
                [use.factor_run_id for use in factor_fits.used],
                history,
                plugin_record,
                judge,
                signing_key,
            )
            with engine.begin() as connection:
                record_lineage(
                    connection,
                    tenant_id=settings.tenant,
                    run_instance_id=instance,
                    records=written.records,
                    edges=written.edges,
                )
                for name, ref in sorted(written.refs.items()):
                    record_run_artifact(
                        connection,
                        tenant_id=settings.tenant,
                        run_instance_id=instance,
                        name=name,
                        sha256=ref.sha256,
                        uri=ref.uri,
                        media_type=written.media_type(name),
                        size_bytes=ref.size,
                    )
                finish_run(
                    connection,
                    tenant_id=settings.tenant,
                    run_instance_id=instance,
                    status="succeeded",
                    metrics=metrics,
                )
            tracker.done()
        except BaseException as exc:
            with engine.begin() as connection:
                finish_run(
                    connection,
                    tenant_id=settings.tenant,
                    run_instance_id=instance,
                    status="failed",
                    error=f"{type(exc).__name__}: {exc}"[:2000],
                )
            raise
    manifest = written.manifest()
    return ReportResult(
        run_instance_id=instance,
        run_key=key,
        dataset=dataset,
        summary=summary,
        manifest=manifest,
        html_uri=written.refs["report.html"].uri,
        markdown_uri=written.refs["report.md"].uri,
        bundles=bundles,
    )


def _metrics(
    bundles: dict[str, ValidationBundle], computation: ReportComputation
) -> dict[str, float | None]:
    """Run metrics read from the bundles: the numbers governance judges, not a second mapping."""
    any_horizon = next(iter(bundles.values())).horizons[0]
    metrics: dict[str, float | None] = {
        "family.rc_p": any_horizon.data_snooping.rc_p,
        "family.spa_p": any_horizon.data_snooping.spa_p,
        "family.pbo": any_horizon.overfitting.pbo,
        "family.effective_trials": computation.effective_trials,
    }
    for signal, bundle in bundles.items():
        for item in bundle.horizons:
            prefix = hypothesis_id(signal, item.horizon)
            metrics[f"{prefix}.mean_ic"] = item.ic.mean_ic
            metrics[f"{prefix}.t_hac"] = item.ic.t_hac
            metrics[f"{prefix}.bh_p"] = item.multiple_testing.bh_adjusted_p
            metrics[f"{prefix}.rw_p"] = item.data_snooping.rw_p
            metrics[f"{prefix}.net_sharpe"] = item.execution.net_sharpe if item.execution else None
    return metrics


def _write_artifacts(
    written: RunArtifacts,
    computation: ReportComputation,
    config: ReportConfig,
    resolved: dict[str, Any],
    key: str,
    instance: str,
    dataset: DatasetIdentity,
    factor_run_ids: list[str],
    history: dict[str, Any],
    plugin_record: dict[str, Any],
    judge: VerdictJudge,
    signing_key: SigningKey | None = None,
) -> tuple[dict[str, Any], dict[str, ValidationBundle], dict[str, float | None]]:
    digest = config_digest(resolved)
    base_edges = (("uses_dataset", dataset.dataset_id.value), ("uses_config", digest))
    plugins = {"stat_procedures": resolved["stat_procedures"]}
    written.put_json("config.json", resolved, artifact_type="config", edges=base_edges,
                     plugin_manifest=plugins)  # fmt: skip
    write_plugin_record(written, plugin_record, resolved["signal_plugins"], base_edges)
    plan_doc = computation.plan.to_dict()
    written.put_json(
        SPLIT_PLAN_NAME, plan_doc, artifact_type="split_plan", schema_version="1", edges=base_edges
    )
    attestation = written.put_json(
        ATTESTATION_NAME,
        computation.attestation,
        artifact_type="fold_causality_attestation",
        schema_version=str(computation.attestation.get("schema_version", "")),
        edges=(("attests", SPLIT_PLAN_NAME), *base_edges),
    )
    attestation_envelope = put_envelope(
        written, ATTESTATION_NAME, attestation, FOLD_CAUSALITY_PREDICATE, signing_key
    )
    ic_rows = {
        hypothesis_id(s, h): r.ic.to_dict() for (s, h), r in sorted(computation.hypotheses.items())
    }
    written.put_json("ic/summary.json", ic_rows, artifact_type="ic_summary", edges=base_edges)
    written.put_csv("ic/oos_ic.csv", _flat_columns(computation.oos_ic), artifact_type="ic_series",
                    edges=(("uses_folds", SPLIT_PLAN_NAME), *base_edges))  # fmt: skip
    returns = pd.DataFrame(
        {hypothesis_id(s, h): r.net_returns for (s, h), r in computation.hypotheses.items()}
    )
    written.put_csv("portfolio/net_returns.csv", returns, artifact_type="returns",
                    edges=(("uses_folds", SPLIT_PLAN_NAME), *base_edges))  # fmt: skip
    for (signal, horizon), result in sorted(computation.hypotheses.items()):
        written.put_json(
            f"execution/{hypothesis_id(signal, horizon)}.json",
            result.execution,
            artifact_type="execution_evidence",
            schema_version=str(result.execution.get("schema_version", "")),
            edges=base_edges,
        )
    if computation.family is not None:
        written.put_json("stats/family.json", family_summary(family=computation.family),
                         artifact_type="family_tests", schema_version="1",
                         edges=(("derived_from", "ic/oos_ic.csv"),))  # fmt: skip
    if computation.pbo is not None:
        written.put_json("stats/pbo.json", pbo_summary(computation.pbo), artifact_type="pbo",
                         schema_version="1",
                         edges=(("derived_from", "portfolio/net_returns.csv"),))  # fmt: skip

    written.put_json("stats/breaks.json", {"hypotheses": computation.breaks, "schema_version": 1},
                     artifact_type="break_diagnostics", schema_version="1",
                     edges=(("derived_from", "ic/oos_ic.csv"),))  # fmt: skip
    if computation.regimes is not None:
        written.put_json("stats/regimes.json", computation.regimes.to_dict(),
                         artifact_type="regime_ic", schema_version="1",
                         edges=(("derived_from", "ic/oos_ic.csv"),
                                ("uses_folds", SPLIT_PLAN_NAME)))  # fmt: skip

    if computation.procedures:
        selected = [e for e in resolved["stat_procedures"] if e["name"] in computation.procedures]
        written.put_json(PROCEDURES_NAME, procedures_document(computation.procedures, selected),
                         artifact_type="stat_procedures", schema_version="1",
                         edges=(("derived_from", "ic/oos_ic.csv"),
                                ("derived_from", "portfolio/net_returns.csv")),
                         plugin_manifest={"stat_procedures": selected})  # fmt: skip

    bundles = {
        signal: build_bundle(signal, computation, config, written, key, instance, dataset,
                             digest, attestation.sha256, attestation_envelope.signed)
        for signal in config.signals
    }  # fmt: skip
    summary = _summary(computation, bundles, config, key, instance, dataset, digest,
                       factor_run_ids)  # fmt: skip
    summary["research_history"] = history
    write_tearsheets(written, computation, edges=base_edges)
    power = power_analysis(computation, config)
    written.put_json("stats/power.json", power, artifact_type="power_analysis", schema_version="1",
                     edges=(("derived_from", "ic/oos_ic.csv"),))  # fmt: skip
    summary["power"] = power
    if computation.procedures:  # only then: a report without them keeps its bytes
        summary["procedures"] = procedure_rows(computation)
    figure_bytes = render_figures(computation, power)
    for name, data in figure_bytes.items():
        written.put(f"figures/{name}.png", data, artifact_type="figure")
    written.put_json("stats/overview.json", summary, artifact_type="stats_overview",
                     schema_version="1", edges=base_edges)  # fmt: skip

    for signal, bundle in bundles.items():
        evidence = tuple(("derived_from", item.name) for item in bundle.artifacts)
        plugin = resolved["signal_plugins"].get(signal)
        if plugin is not None:  # a plugin signal's bundle names the plugin's code
            evidence = (*evidence, ("derived_from", PLUGIN_RECORD_NAME))
            plugin = {"signal_plugin": plugin}
        bundle_ref = written.put(
            bundle_logical_name(signal),
            bundle.to_bytes(),
            artifact_type="validation_bundle",
            schema_version=str(BUNDLE_SCHEMA_VERSION),
            edges=(*base_edges, ("uses_folds", SPLIT_PLAN_NAME), *evidence),
            plugin_manifest={**plugins, **(plugin or {})},
        )
        put_envelope(written, bundle_logical_name(signal), bundle_ref, BUNDLE_PREDICATE,
                     signing_key)  # fmt: skip
    written.edges.extend(_attests(bundle_logical_name(signal)) for signal in config.signals)
    verdict = report_verdict(judge, bundles, written, history, power)
    written.put_json(VERDICT_NAME, verdict, artifact_type="verdict", schema_version="1",
                     edges=(*base_edges, *(("derived_from", bundle_logical_name(signal))
                                           for signal in bundles)))  # fmt: skip
    summary_with_artifacts = {
        **summary,
        "artifacts": _artifact_rows(written),
        **render_extras(verdict, computation, list(figure_bytes)),
    }
    written.put("report.md", render_markdown(summary_with_artifacts, list(figure_bytes)).encode(),
                artifact_type="report_markdown", edges=base_edges)  # fmt: skip
    written.put("report.html", render_html(summary_with_artifacts, figure_bytes).encode(),
                artifact_type="report_html", edges=base_edges)  # fmt: skip
    written.put_manifest(edges=base_edges)
    return summary, bundles, _metrics(bundles, computation)


def _attests(bundle_name: str) -> LineageEdge:
    return LineageEdge(ATTESTATION_NAME, "attests", bundle_name)


def _artifact_rows(written: RunArtifacts) -> list[dict[str, Any]]:
    return [{"name": name, "sha256": ref.sha256} for name, ref in sorted(written.refs.items())]


def _flat_columns(frame: pd.DataFrame) -> pd.DataFrame:
    flat = frame.copy()
    flat.columns = [hypothesis_id(str(s), int(h)) for s, h in frame.columns]
    return flat


def _summary(
    computation: ReportComputation,
    bundles: dict[str, ValidationBundle],
    config: ReportConfig,
    key: str,
    instance: str,
    dataset: DatasetIdentity,
    digest: str,
    factor_run_ids: list[str],
) -> dict[str, Any]:
    """The run summary: hypothesis rows read from the bundles (the evidence governance judges),
    plus what is not evidence (period, break diagnostics, regime table)."""
    start, end = computation.period
    family = computation.family
    first = next(iter(bundles.values())).horizons[0]
    regimes = computation.regimes
    return {
        "config_digest": digest,
        "created_at": to_iso(now()),
        "dataset_id": dataset.dataset_id.value,
        "dataset_mode": dataset.mode.value,
        "engine_version": ENGINE_VERSION,
        "factor_run_ids": sorted(set(factor_run_ids)),
        "family": {
            "draws": family.reality_check.reps_actual if family else 0,
            "pbo": first.overfitting.pbo,
            "pbo_splits": computation.pbo.n_splits if computation.pbo else 0,
            "rc_p": first.data_snooping.rc_p,
            "size": first.data_snooping.family_size,
            "skip_reason": first.data_snooping.skip_reason,
            "spa_p": first.data_snooping.spa_p,
        },
        "hypotheses": [
            _hypothesis_row(computation, signal, item)
            for signal, bundle in bundles.items()
            for item in bundle.horizons
        ],
        "n_assets": computation.n_assets,
        "period": f"{_iso_ms(start)} – {_iso_ms(end)}",
        "regimes": {
            "method": None if regimes is None else regimes.method,
            "skip_reason": None if regimes is None else regimes.skip_reason,
        },
        "run_instance_id": instance,
        "run_key": key,
        "schema_version": 1,
        "spec_version": SPEC_VERSION,
        "walk_forward": config.splits.kind,
        **({"data_notes": list(computation.notes)} if computation.notes else {}),
    }


def _hypothesis_row(
    computation: ReportComputation, signal: str, item: HorizonEvidence
) -> dict[str, Any]:
    name = hypothesis_id(signal, item.horizon)
    missing = [
        reason
        for reason in (
            item.ic.missing_reason,
            item.multiple_testing.missing_reason,
            item.deflated_sharpe.missing_reason,
        )
        if reason
    ]
    regime = item.regime
    return {
        "bh_p": item.multiple_testing.bh_adjusted_p,
        "break_p": _break_p(computation, name),
        "by_p": item.multiple_testing.by_adjusted_p,
        "dsr": item.deflated_sharpe.dsr,
        "horizon": item.horizon,
        "mean_ic": item.ic.mean_ic,
        "missing": sorted(set(missing)),
        "n_obs": item.ic.n_obs,
        "net_sharpe": item.execution.net_sharpe if item.execution else None,
        "psr": item.deflated_sharpe.psr,
        "regime_ic": _regime_rows(computation, signal, item.horizon),
        "rw_p": item.data_snooping.rw_p,
        "signal": signal,
        "t_hac": item.ic.t_hac,
        "worst_regime": None if regime is None else regime.worst_regime,
        "worst_regime_ic": None if regime is None else regime.worst_regime_ic,
    }


def _regime_rows(computation: ReportComputation, signal: str, horizon: int) -> list[dict[str, Any]]:
    regime = computation.hypotheses[(signal, horizon)].regime
    return [] if regime is None else list(regime.rows)


def _break_p(computation: ReportComputation, key: str) -> float | None:
    supf = computation.breaks.get(key, {}).get("sup_f")
    return None if supf is None else supf.get("p_value")


def _iso_ms(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M")
