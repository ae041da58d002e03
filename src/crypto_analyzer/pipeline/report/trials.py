"""A report run's hypotheses as trial-ledger rows, and what the ledger then says about the run.

The report appends its trials as soon as their statistics exist (before any artifact is written),
so a run that fails later — or is abandoned after a look at the numbers — still counts against
whatever is promoted from the same data. The report then shows how many trials its hypotheses are
judged against: ``trials in scope: N (this run: k)`` under the default scope rule.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.engine import Engine

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.clock import now, to_iso
from crypto_analyzer.core.service_key import ServiceKey
from crypto_analyzer.db.dataset_id import DatasetIdentity
from crypto_analyzer.db.trial_ledger import NewTrial, append_trials
from crypto_analyzer.governance.checkpoints import anchor
from crypto_analyzer.governance.research_history import scope_summary, scope_trials
from crypto_analyzer.pipeline.report.compute import ReportComputation
from crypto_analyzer.pipeline.report.config import ReportConfig

__all__ = ["REPORT_SCOPE_RULE", "record_trials", "run_trials"]

REPORT_SCOPE_RULE = "overlapping_data"
"""The scope the report counts under (the default policy's); the gate uses its policy file's."""


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def run_trials(
    computation: ReportComputation,
    config: ReportConfig,
    run_key: str,
    run_instance_id: str,
    dataset: DatasetIdentity,
) -> list[NewTrial]:
    """One :class:`NewTrial` per (signal, horizon) the run evaluated, in config order."""
    start, end = computation.period
    family_size = len(computation.hypotheses)
    trials = []
    for signal in config.signals:
        for horizon in config.horizons:
            result = computation.hypotheses[(signal, horizon)]
            t_hac = _finite(result.ic.t_hac)
            moments = result.return_moments
            trials.append(
                NewTrial(
                    run_instance_id=run_instance_id,
                    run_key=run_key,
                    dataset_id=dataset.dataset_id.value,
                    data_watermark=getattr(dataset, "watermark", None),
                    signal=signal,
                    params=config.signal_parameters(signal),
                    horizon=horizon,
                    freq=config.freq,
                    instruments=computation.assets,
                    start_ms=start,
                    end_ms=end,
                    sharpe=None if moments is None else _finite(moments[0]),
                    skewness=None if moments is None else _finite(moments[1]),
                    kurtosis=None if moments is None else _finite(moments[2]),
                    n_returns=0 if moments is None else int(moments[3]),
                    ic_mean=_finite(result.ic.mean),
                    ic_t=t_hac,
                    # No HAC t means no p-value: recorded as missing, never as a measured 1.0.
                    p_value=result.p_value,
                    n_obs=result.ic.n_obs,
                    family_size=family_size,
                    family_n_eff=max(1.0, float(computation.effective_trials)),
                )
            )
    return trials


def record_trials(
    engine: Engine,
    *,
    tenant_id: str,
    trials: list[NewTrial],
    service_key: ServiceKey | None,
    store: ArtifactStore | None,
) -> dict[str, Any]:
    """Append the run's trials (MACed with ``service_key``), anchor the new ledger head (WAL and
    a signed checkpoint in ``store``), and return the run's research-history summary.

    Only counts of *distinct* trials are reported, so re-running an identical configuration on
    identical data reproduces the same report byte for byte.
    """
    stored = append_trials(
        engine, tenant_id, trials, created_at=to_iso(now()), service_key=service_key
    )
    if not stored:
        return {
            "effective_trials": None,
            "headline": "trials in scope: 0 (this run: 0)",
            "rule": REPORT_SCOPE_RULE,
            "this_run": 0,
            "trials_in_scope": 0,
        }
    anchor(engine, store, tenant_id, service_key)
    first = stored[0]
    with engine.connect() as connection:
        in_scope = scope_trials(
            connection, tenant_id, first, rule=REPORT_SCOPE_RULE, up_to_seq=stored[-1].seq + 1
        )
    summary, _ = scope_summary(first, in_scope, rule=REPORT_SCOPE_RULE)
    return {
        "effective_trials": summary.effective_trials,
        "headline": summary.headline(),
        "rule": REPORT_SCOPE_RULE,
        "this_run": summary.this_run,
        "trials_in_scope": summary.unique_trials,
    }
