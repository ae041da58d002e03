"""Builders for governance tests: validation bundles that pass the default policy, and patches.

``strong_bundle`` returns evidence that clears every default threshold with margin, so a test
that patches one number and expects a denial proves that exactly that rule bites.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from crypto_analyzer.core.hashing import sha256_bytes, sha256_json
from crypto_analyzer.core.identities import DatasetId, DatasetMode
from crypto_analyzer.core.versions import ENGINE_VERSION, SEED_VERSION, SPEC_VERSION
from crypto_analyzer.db.market_history import Restatement
from crypto_analyzer.db.trial_ledger import LedgerHead, TrialRecord
from crypto_analyzer.governance.evidence import (
    BUNDLE_SCHEMA_VERSION,
    EvidenceArtifact,
    ValidationBundle,
)
from crypto_analyzer.governance.policy import Decision, EvaluationContext, Reason
from crypto_analyzer.governance.records import CandidateRecord
from crypto_analyzer.governance.research_history import ResearchHistory, ScopeSummary
from crypto_analyzer.governance.staleness import Staleness

__all__ = [
    "DATASET",
    "MemoryVerifier",
    "artifact_bytes",
    "candidate_for",
    "context_for",
    "history_for",
    "horizon_block",
    "patched",
    "staleness_for",
    "strong_bundle",
]

DATASET = DatasetId(DatasetMode.STRICT, "d" * 64)
RUN_KEY = sha256_json({"run": "key"})
CONFIG_DIGEST = sha256_json({"config": 1})
SPLIT_PLAN_DIGEST = sha256_json({"split": "plan"})


def artifact_bytes(name: str, run_instance_id: str) -> bytes:
    """Deterministic content for an evidence artifact."""
    return f"evidence {name} of {run_instance_id}\n".encode()


def evidence_artifact(name: str, key: str, data: bytes, uri_prefix: str) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "sha256": sha256_bytes(data),
        "size": len(data),
        "uri": f"{uri_prefix}/{key}",
    }


def horizon_block(horizon: int = 4) -> dict[str, Any]:
    """Evidence for one horizon that passes every default rule with margin."""
    return {
        "horizon": horizon,
        "ic": {
            "mean_ic": 0.045,
            "std_ic": 0.12,
            "t_naive": 6.1,
            "t_hac": 4.2,
            "hac_lags": 6,
            "hit_rate": 0.61,
            "n_obs": 1200,
            "n_assets": 40,
        },
        "multiple_testing": {
            "p_value": 0.0004,
            "bh_adjusted_p": 0.004,
            "by_adjusted_p": 0.012,
            "family_size": 6,
        },
        "deflated_sharpe": {"sharpe": 1.8, "dsr": 0.985, "psr": 0.995, "effective_trials": 6.0},
        "overfitting": {"pbo": 0.12, "family_size": 6},
        "data_snooping": {
            "family_size": 6,
            "rc_p": 0.01,
            "spa_p": 0.008,
            "rw_p": 0.02,
            "rw_draws_requested": 1000,
            "rw_draws_actual": 1000,
            "skip_reason": None,
        },
        "execution": {"target_capital": 1_000_000.0, "net_sharpe": 1.2, "max_participation": 0.01},
        "regime": {"worst_regime": "high_vol", "worst_regime_ic": 0.015, "worst_regime_n_obs": 300},
    }


def strong_bundle(
    *,
    run_instance_id: str = "run-strong-0001",
    signal: str = "momentum",
    horizons: tuple[int, ...] = (1, 4),
    run_key: str = RUN_KEY,
    dataset_id: str = DATASET.value,
    config_digest: str = CONFIG_DIGEST,
    uri_prefix: str = "memory://store",
) -> ValidationBundle:
    """A bundle that the default policy allows at both levels (given a second principal)."""
    attestation_key = f"runs/{run_instance_id}/attestation/{signal}.json"
    ic_key = f"runs/{run_instance_id}/ic/{signal}.json"
    attestation_data = artifact_bytes("attestation", run_instance_id)
    ic_data = artifact_bytes("ic", run_instance_id)
    document = {
        "schema_version": BUNDLE_SCHEMA_VERSION,
        "run_key": run_key,
        "run_instance_id": run_instance_id,
        "dataset_id": dataset_id,
        "dataset_mode": DatasetId.parse(dataset_id).mode.value,
        "engine_version": ENGINE_VERSION,
        "spec_version": SPEC_VERSION,
        "config_digest": config_digest,
        "seed_version": SEED_VERSION,
        "seeds": [
            {"component": "rc", "fold": None, "seed": 11},
            {"component": "rw", "fold": None, "seed": 12},
            {"component": "cscv", "fold": 0, "seed": 13},
        ],
        "signal": signal,
        "walk_forward_used": True,
        "cpcv_used": False,
        "split_plan_digest": SPLIT_PLAN_DIGEST,
        "horizons": [horizon_block(h) for h in horizons],
        "attestation": {
            "name": f"attestation/{signal}.json",
            "sha256": sha256_bytes(attestation_data),
            "present": True,
            "valid": True,
            "signed": True,
        },
        "artifacts": [
            evidence_artifact(f"ic/{signal}.json", ic_key, ic_data, uri_prefix),
            evidence_artifact(
                f"attestation/{signal}.json", attestation_key, attestation_data, uri_prefix
            ),
        ],
    }
    return ValidationBundle.model_validate(document)


def patched(bundle: ValidationBundle, changes: Mapping[str, Any]) -> ValidationBundle:
    """A copy with dotted paths replaced (``"horizons.1.ic.mean_ic": 0.01``), re-validated."""
    document = copy.deepcopy(bundle.to_canonical_dict())
    for path, value in changes.items():
        *parents, last = path.split(".")
        node: Any = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return ValidationBundle.model_validate(document)


def candidate_for(
    bundle: ValidationBundle,
    *,
    horizon: int = 4,
    status: str = "exploratory",
    created_by: str = "alice",
    evidence_digest: str | None = None,
) -> CandidateRecord:
    """The candidate row a service would create for ``bundle`` at ``horizon``."""
    return CandidateRecord(
        tenant_id="default",
        candidate_id="cand_0123456789abcdef",
        run_instance_id=bundle.run_instance_id,
        run_key=bundle.run_key,
        dataset_id=bundle.dataset_id,
        signal=bundle.signal,
        horizon=horizon,
        status=status,
        evidence_digest=evidence_digest or bundle.evidence_digest(),
        eligibility_report_id=None,
        status_reason=None,
        created_by=created_by,
        created_at="2026-01-01T00:00:00.000000Z",
        updated_at="2026-01-01T00:00:00.000000Z",
    )


class MemoryVerifier:
    """Artifact verifier over a dict of name -> (sha256, size); missing names are missing."""

    location = "memory://store"

    def __init__(self, bundle: ValidationBundle, *, missing: tuple[str, ...] = ()) -> None:
        self._known = {
            item.key: (item.sha256, item.size)
            for item in bundle.artifacts
            if item.name not in missing
        }

    def problem(self, artifact: EvidenceArtifact) -> str | None:
        known = self._known.get(artifact.key)
        if known is None:
            return "is missing from memory://store"
        if known != (artifact.sha256, artifact.size):
            return "has different bytes in memory://store"
        return None


def run_row_for(bundle: ValidationBundle, **changes: Any) -> dict[str, Any]:
    """The ``runs`` row matching ``bundle``."""
    row = {
        "tenant_id": "default",
        "run_instance_id": bundle.run_instance_id,
        "run_key": bundle.run_key,
        "dataset_id": bundle.dataset_id,
        "dataset_mode": bundle.dataset_mode,
        "config_json": "{}",
        "config_digest": bundle.config_digest,
        "engine_version": bundle.engine_version,
        "spec_version": bundle.spec_version,
        "seed_version": bundle.seed_version,
        "status": "succeeded",
    }
    row.update(changes)
    return row


def history_for(
    bundle: ValidationBundle,
    horizon: int = 1,
    *,
    unique_trials: int = 1,
    this_run: int = 1,
    dsr: float | None = 0.999,
    bh_p: float | None = 0.001,
    by_p: float | None = 0.002,
    online_level: float | None = 0.01,
    online_rejected: bool | None = True,
    problem: str | None = None,
) -> ResearchHistory:
    """A research history the history rules judge as given (passing by default)."""
    trial = TrialRecord(
        tenant_id="default",
        seq=0,
        trial_id="tr_0001",
        trial_key="k" * 64,
        run_instance_id=bundle.run_instance_id,
        run_key=bundle.run_key,
        dataset_id=bundle.dataset_id,
        data_watermark=1,
        hypothesis_id=f"{bundle.signal}@{horizon}",
        signal=bundle.signal,
        params_json="{}",
        horizon=horizon,
        freq="1h",
        instruments_json='["A","B"]',
        n_instruments=2,
        start_ms=0,
        end_ms=3_600_000,
        sharpe=0.2,
        skewness=0.0,
        kurtosis=3.0,
        n_returns=1000,
        ic_mean=0.05,
        ic_t=6.0,
        p_value=1e-9,
        n_obs=1000,
        family_size=1,
        family_n_eff=1.0,
        created_at="2025-01-01T00:00:00.000000Z",
        prev_hash="0" * 64,
        hash="h" * 64,
    )
    scope = ScopeSummary(
        rule="overlapping_data",
        freq="1h",
        start_ms=0,
        end_ms=3_600_000,
        n_instruments=2,
        trials_in_scope=unique_trials,
        unique_trials=unique_trials,
        this_run=this_run,
        effective_trials=float(unique_trials),
        sharpe_variance=0.001 if unique_trials > 1 else None,
        missing_p_values=0,
    )
    return ResearchHistory(
        ledger=LedgerHead(unique_trials, "h" * 64),
        hypothesis_id=trial.hypothesis_id,
        problem=problem,
        trial=None if problem else trial,
        scope=None if problem else scope,
        dsr=dsr,
        dsr_sr0=0.0,
        bh_p=bh_p,
        by_p=by_p,
        online_alpha=0.05,
        online_w0=0.025,
        online_position=unique_trials,
        online_level=online_level,
        online_rejected=online_rejected,
    )


def staleness_for(
    bundle: ValidationBundle, *, restated: int = 0, watermark: int | None = 3
) -> Staleness:
    """What was restated under the bundle's run (nothing by default; ``restated`` bar rows)."""
    found = tuple(
        Restatement(
            table="bars",
            superseded_revision=7,
            superseded_by_ingest_run_id="ir_restate",
            freq="1h",
            instruments=1,
            start_ms=0,
            end_ms=3_600_000,
            rows=restated,
        )
        for _ in range(1 if restated else 0)
    )
    problem = None if watermark is not None else "run r recorded no data watermark"
    return Staleness(candidate_for(bundle), watermark, {"freq": "1h"}, found, problem=problem)


def context_for(
    bundle: ValidationBundle,
    *,
    actor: str = "bob",
    first_promoter: str | None = "carol",
    run: dict[str, Any] | None = None,
    verifier: Any = "default",
    evidence_digest: str | None = None,
    history: Any = "default",
    staleness: Any = "default",
) -> EvaluationContext:
    """The context a service would build for ``bundle``."""
    return EvaluationContext(
        tenant_id="default",
        actor=actor,
        run=run_row_for(bundle) if run is None else run,
        first_promoter=first_promoter,
        evidence_digest=evidence_digest or bundle.evidence_digest(),
        evidence_problem=None,
        artifacts=MemoryVerifier(bundle) if verifier == "default" else verifier,
        history=history_for(bundle) if history == "default" else history,
        staleness=staleness_for(bundle) if staleness == "default" else staleness,
    )


class FixedPolicy:
    """A member policy with a scripted answer (for policy-set tests and entry points)."""

    def __init__(self, allowed: bool = True, rule: str = "fixed.rule", policy_id: str = "fixed"):
        self._allowed = allowed
        self._rule = rule
        self._id = policy_id

    @property
    def policy_id(self) -> str:
        return self._id

    def digest(self) -> str:
        return sha256_json({"fixed": self._id, "allowed": self._allowed})

    def evaluate(self, candidate: Any, evidence: Any, level: str, ctx: Any) -> Decision:
        reasons = () if self._allowed else (Reason(self._rule, "scripted denial"),)
        return Decision(self._allowed, reasons, (), self._id, self.digest(), (self._rule,))


def fixed_policy_factory(settings: Mapping[str, Any]) -> FixedPolicy:
    """Entry-point style factory: ``allowed`` comes from the plugin settings table."""
    return FixedPolicy(allowed=bool(settings.get("allowed", True)), policy_id="plugin.fixed")
