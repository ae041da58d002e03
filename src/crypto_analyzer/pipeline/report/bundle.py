"""One signal's validation bundle: the report run's evidence handed to governance.

Kept apart from the run itself so the contract (``governance.evidence``) and the code that fills
it sit side by side: each field of the bundle comes from exactly one place of the computation or
of the artifacts written, and the bundle lists the artifacts its numbers come from.
"""

from __future__ import annotations

from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.core.versions import ENGINE_VERSION, SEED_VERSION, SPEC_VERSION
from crypto_analyzer.db.dataset_id import DatasetIdentity
from crypto_analyzer.governance.evidence import (
    BUNDLE_SCHEMA_VERSION,
    AttestationRef,
    DataSnooping,
    DeflatedSharpe,
    EvidenceArtifact,
    ExecutionEvidence,
    HorizonEvidence,
    IcSummary,
    MultipleTesting,
    Overfitting,
    RegimeEvidence,
    SeedUse,
    ValidationBundle,
)
from crypto_analyzer.pipeline.report.compute import (
    HypothesisResult,
    ReportComputation,
    hypothesis_id,
)
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.writer import RunArtifacts

__all__ = [
    "ATTESTATION_NAME",
    "SPLIT_PLAN_NAME",
    "build_bundle",
    "family_p",
    "horizon_evidence",
]

ATTESTATION_NAME = "attestation/fold_causality.json"
SPLIT_PLAN_NAME = "split_plan.json"


def family_p(computation: ReportComputation, which: str) -> float | None:
    """Reality Check (``rc``) or SPA consistent (``spa``) p-value of the family, if computed."""
    family = computation.family
    if family is None:
        return None
    if which == "rc":
        return family.reality_check.p_value
    return family.spa.pvalue_consistent


def horizon_evidence(
    result: HypothesisResult, computation: ReportComputation, config: ReportConfig
) -> HorizonEvidence:
    """The one mapping from a typed hypothesis result to its evidence: every value is carried as
    measured, and a missing one stays ``None`` with the reason the computation gave."""
    family = computation.family
    family_size = len(computation.hypotheses)
    ic = result.ic
    sharpe = result.sharpe
    return HorizonEvidence(
        horizon=result.horizon,
        ic=IcSummary(
            mean_ic=ic.mean,
            std_ic=ic.std,
            t_naive=ic.t_naive,
            t_hac=ic.t_hac,
            hac_lags=ic.hac_lags,
            hit_rate=ic.hit_rate,
            n_obs=ic.n_obs,
            n_assets=result.n_assets,
            missing_reason=ic.missing_reason,
        ),
        multiple_testing=MultipleTesting(
            p_value=result.p_value,
            bh_adjusted_p=result.bh_p,
            by_adjusted_p=result.by_p,
            family_size=family_size,
            missing_reason=result.p_value_missing_reason,
        ),
        deflated_sharpe=DeflatedSharpe(
            sharpe=sharpe.sharpe_per_period,
            dsr=sharpe.dsr,
            psr=sharpe.psr,
            # n_eff >= 1 by definition (one trial at least); the estimator can dip below it.
            effective_trials=max(computation.effective_trials, 1.0),
            missing_reason=sharpe.missing_reason,
        ),
        overfitting=Overfitting(
            pbo=computation.pbo.pbo if computation.pbo else None,
            family_size=family_size,
        ),
        data_snooping=DataSnooping(
            family_size=family_size,
            rc_p=family_p(computation, "rc"),
            spa_p=family_p(computation, "spa"),
            rw_p=result.rw_p,
            rw_draws_requested=family.stepm.reps_requested if family else 0,
            rw_draws_actual=family.stepm.reps_actual if family else 0,
            skip_reason=computation.family_skip_reason,
        ),
        execution=(
            ExecutionEvidence(
                target_capital=config.portfolio.target_capital,
                net_sharpe=result.net_sharpe,
                max_participation=result.max_participation,
            )
            if result.net_sharpe is not None
            else None
        ),
        regime=_regime(result, computation),
    )


def _regime(result: HypothesisResult, computation: ReportComputation) -> RegimeEvidence | None:
    regime = result.regime
    if regime is None or regime.worst_regime is None or regime.worst_regime_ic is None:
        return None
    judged = sum(1 for row in regime.rows if row["mean"] is not None)
    return RegimeEvidence(
        worst_regime=regime.worst_regime,
        worst_regime_ic=regime.worst_regime_ic,
        worst_regime_n_obs=regime.worst_regime_n_obs,
        n_regimes=judged,
        method=computation.regimes.method if computation.regimes else None,
    )


def build_bundle(
    signal: str,
    computation: ReportComputation,
    config: ReportConfig,
    written: RunArtifacts,
    key: str,
    instance: str,
    dataset: DatasetIdentity,
    digest: str,
    attestation_sha256: str,
    attestation_signed: bool = False,
) -> ValidationBundle:
    """The evidence contract of one signal: every number a rule needs, and where it came from."""
    horizons = [
        horizon_evidence(computation.hypotheses[(signal, horizon)], computation, config)
        for horizon in config.horizons
    ]
    evidence_names = [
        "config.json",
        SPLIT_PLAN_NAME,
        ATTESTATION_NAME,
        "ic/summary.json",
        "ic/oos_ic.csv",
        "portfolio/net_returns.csv",
        *(f"execution/{hypothesis_id(signal, h)}.json" for h in config.horizons),
        *(
            name
            for name in (
                "stats/family.json",
                "stats/pbo.json",
                "stats/breaks.json",
                "stats/regimes.json",
            )
            if name in written.refs
        ),
    ]
    artifacts = tuple(
        EvidenceArtifact(
            name=name,
            key=written.key(name),
            uri=written.key(name),  # store-relative: bundle bytes must not depend on the store
            sha256=written.refs[name].sha256,
            size=written.refs[name].size,
        )
        for name in evidence_names
    )
    seeds = tuple(
        SeedUse(component=component, fold=fold, seed=seed)
        for component, fold, seed in computation.seeds
    )
    return ValidationBundle(
        schema_version=BUNDLE_SCHEMA_VERSION,
        run_key=key,
        run_instance_id=instance,
        dataset_id=dataset.dataset_id.value,
        dataset_mode=dataset.mode.value,
        engine_version=ENGINE_VERSION,
        spec_version=SPEC_VERSION,
        config_digest=digest,
        seed_version=SEED_VERSION,
        seeds=seeds,
        signal=signal,
        walk_forward_used=config.splits.kind == "walk_forward",
        cpcv_used=config.splits.kind == "cpcv",
        split_plan_digest=sha256_json(computation.plan.to_dict()),
        horizons=tuple(horizons),
        attestation=AttestationRef(
            name=ATTESTATION_NAME,
            sha256=attestation_sha256,
            present=True,
            valid=not computation.attestation_problems,
            signed=attestation_signed,
        ),
        artifacts=artifacts,
    )
