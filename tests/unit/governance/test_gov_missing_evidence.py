"""Missing evidence stays missing from the computation to the eligibility decision (issue 15).

A statistic the report could not compute is ``None`` in the bundle, with the reason; the policy
denies *because it is missing* and says why, instead of judging a made-up 0.0.
"""

from __future__ import annotations

import dataclasses
from functools import cache

from gov_factories import candidate_for, context_for, patched, strong_bundle

from crypto_analyzer.governance.evidence import HorizonEvidence
from crypto_analyzer.governance.policy import DefaultPolicy, load_policy_config
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, generate_market
from crypto_analyzer.pipeline.report.bundle import horizon_evidence
from crypto_analyzer.pipeline.report.compute import ReportComputation, compute_report
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.stat_stages import SharpeStats

CONFIG = ReportConfig.model_validate(
    {
        "signals": ["volume_shock", "momentum_24h"],
        "horizons": [1],
        "min_assets": 8,
        "factor_window": 240,
        "splits": {"test_size": 480, "min_train_size": 960, "embargo": 4},
        "procedures": {"bootstrap_reps": 200, "pbo_blocks": 8},
        "portfolio": {"k": 3, "target_capital": 10_000.0, "capital_grid": [1e4, 1e5]},
    }
)
KEY = ("volume_shock", 1)
DSR_WHY = "the 2 OOS net returns are too few (test-only)"


@cache
def _computation() -> ReportComputation:
    instruments, bars = generate_market(
        SyntheticMarketConfig(assets=20, days=100, seed=3, planted_ic=0.05)
    )
    return compute_report(bars, instruments, CONFIG, run_key="a" * 64, dataset_id="d" * 64)


def _with_missing() -> ReportComputation:
    computation = _computation()
    result = computation.hypotheses[KEY]
    ic = dataclasses.replace(result.ic, mean=None, std=None, t_hac=None, hit_rate=None, n_obs=0)
    sharpe = SharpeStats(None, None, None, None, DSR_WHY)
    broken = dataclasses.replace(
        result,
        ic=ic,
        sharpe=sharpe,
        p_value=None,
        bh_p=None,
        by_p=None,
        p_value_missing_reason=f"no HAC t-statistic: {ic.missing_reason}",
    )
    return dataclasses.replace(computation, hypotheses={**computation.hypotheses, KEY: broken})


def test_computed_evidence_is_carried_as_measured() -> None:
    computation = _computation()
    result = computation.hypotheses[KEY]
    evidence = horizon_evidence(result, computation, CONFIG)
    assert evidence.ic.mean_ic == result.ic.mean and evidence.ic.missing_reason is None
    assert evidence.deflated_sharpe.dsr == result.sharpe.dsr is not None
    assert evidence.deflated_sharpe.psr == result.sharpe.psr is not None
    assert evidence.multiple_testing.bh_adjusted_p == result.bh_p is not None
    assert evidence.regime is not None
    assert evidence.regime.worst_regime_ic == result.regime.worst_regime_ic  # type: ignore[union-attr]


def test_missing_dsr_psr_and_ic_stay_missing_in_the_bundle() -> None:
    computation = _with_missing()
    evidence = horizon_evidence(computation.hypotheses[KEY], computation, CONFIG)
    assert evidence.deflated_sharpe.dsr is None and evidence.deflated_sharpe.psr is None
    assert evidence.deflated_sharpe.sharpe is None
    assert evidence.deflated_sharpe.missing_reason == DSR_WHY
    assert evidence.ic.mean_ic is None and evidence.ic.hit_rate is None
    assert evidence.ic.std_ic is None and evidence.ic.t_hac is None
    assert (
        evidence.ic.missing_reason is not None and "0 OOS IC values" in evidence.ic.missing_reason
    )
    assert evidence.multiple_testing.bh_adjusted_p is None
    assert "no HAC t-statistic" in (evidence.multiple_testing.missing_reason or "")


def _decision_reasons(evidence: HorizonEvidence) -> list[str]:
    base = strong_bundle(horizons=(1,))
    block = evidence.model_dump(mode="json")
    bundle = patched(base, {"horizons.0": block})
    assert bundle.horizons[0].deflated_sharpe.dsr is None
    policy = DefaultPolicy(load_policy_config())
    candidate = candidate_for(bundle, horizon=1)
    decision = policy.evaluate(candidate, bundle, "candidate", context_for(bundle))
    assert not decision.allowed
    return [str(reason) for reason in decision.reasons]


def test_eligibility_says_missing_and_why() -> None:
    computation = _with_missing()
    reasons = _decision_reasons(horizon_evidence(computation.hypotheses[KEY], computation, CONFIG))
    text = " | ".join(reasons)
    assert f"deflated Sharpe ratio at horizon 1 missing: {DSR_WHY}" in text, text
    assert "OOS mean IC at horizon 1 missing: 0 OOS IC values" in text, text
    assert "HAC t-statistic of the mean IC at horizon 1 missing:" in text, text
    assert "Benjamini-Hochberg adjusted p at horizon 1" in text and "missing: no HAC t" in text
    # The missing values are never judged as numbers.
    assert "deflated Sharpe ratio at horizon 1 is " not in text, text
    assert "OOS mean IC at horizon 1 is " not in text, text


def test_missing_values_without_a_reason_still_deny() -> None:
    computation = _with_missing()
    evidence = horizon_evidence(computation.hypotheses[KEY], computation, CONFIG)
    blank = evidence.model_copy(
        update={
            "deflated_sharpe": evidence.deflated_sharpe.model_copy(update={"missing_reason": None})
        }
    )
    reasons = _decision_reasons(blank)
    assert any("deflated Sharpe ratio at horizon 1 is missing" in reason for reason in reasons)
