"""Regime stage of a report: out-of-sample IC conditioned on a causally assigned market regime.

A Gaussian mixture over the market-state features (log volatility, log dispersion) is fitted on
each fold's *train* rows only and classifies that fold's test rows
(:func:`~crypto_analyzer.research.regime_model.oos_regimes`); each hypothesis' OOS IC is then
summarised within each regime. The weakest regime is the evidence the policy's regime rule judges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from crypto_analyzer.core.seeding import derive_seed, make_rng
from crypto_analyzer.core.versions import SEED_VERSION
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.stages import Key, PreparedData, hypothesis_id
from crypto_analyzer.pipeline.report.stat_stages import SeedLog
from crypto_analyzer.research import (
    FitRecord,
    market_state_features,
    oos_regimes,
    regime_conditioned_ic,
)

__all__ = ["RegimeIc", "RegimeStage", "regime_stage"]


@dataclass(frozen=True)
class RegimeIc:
    """OOS IC of one hypothesis within each regime, and its weakest regime."""

    rows: tuple[dict[str, Any], ...]
    """Per regime: ``regime``, ``mean``, ``t_hac``, ``n_obs``, ``share``."""
    worst_regime: str | None
    worst_regime_ic: float | None
    worst_regime_n_obs: int


@dataclass(frozen=True)
class RegimeStage:
    """Regime assignment of the test rows and the regime-conditioned IC of every hypothesis."""

    method: str
    states: pd.Series | None
    """Regime label per panel row (test rows only; NaN elsewhere); ``None`` when skipped."""
    per_hypothesis: Mapping[Key, RegimeIc]
    skip_reason: str | None
    fit_records: tuple[FitRecord, ...] = ()
    """The guarded per-fold mixture fits (they join the fold-causality attestation)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "hypotheses": {
                hypothesis_id(*key): {
                    "regimes": list(item.rows),
                    "worst_regime": item.worst_regime,
                    "worst_regime_ic": item.worst_regime_ic,
                    "worst_regime_n_obs": item.worst_regime_n_obs,
                }
                for key, item in sorted(self.per_hypothesis.items())
            },
            "method": self.method,
            "schema_version": 1,
            "skip_reason": self.skip_reason,
        }


def _label(state: float) -> str:
    return f"state{int(state)}"


def _finite(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def regime_stage(
    prepared: PreparedData,
    oos_ic: pd.DataFrame,
    keys: Sequence[Key],
    config: ReportConfig,
    run_key: str,
    seeds: SeedLog,
) -> RegimeStage:
    """Causal regimes (train-only mixture per fold) and each hypothesis' IC per regime."""
    cfg = config.regimes
    method = (
        f"gaussian_mixture(n_states={cfg.n_states}, features=log_volatility+log_dispersion over "
        f"{cfg.feature_window} bars), fitted on each fold's train rows only"
    )
    if not cfg.enabled:
        return RegimeStage(method, None, {}, "regimes.enabled is false")
    if prepared.plan.kind != "walk_forward":
        return RegimeStage(method, None, {}, "regime assignment needs a walk-forward plan")
    panel = prepared.panel
    features = market_state_features(panel, window=cfg.feature_window)
    seed = derive_seed(run_key, "regimes", version=SEED_VERSION)
    seeds.append(("regimes", None, seed))
    probs, records = oos_regimes(
        features, prepared.plan, n_states=cfg.n_states, rng=make_rng(seed), max_iter=cfg.max_iter
    )
    states = pd.Series(probs["state"].to_numpy(), index=pd.Index(panel.times), name="state")
    labelled = states.dropna().map(_label)
    out: dict[Key, RegimeIc] = {}
    for key in keys:
        ic = oos_ic[key].dropna()
        ic.index = pd.Index(ic.index)
        table = regime_conditioned_ic(
            ic, labelled, horizon=key[1], method=config.evaluation.ic_method
        )
        rows: list[dict[str, Any]] = []
        worst: tuple[float, str, int] | None = None
        for label, row in table.iterrows():
            mean, n_obs = _finite(row["mean"]), int(row["n_obs"])
            rows.append(
                {
                    "regime": str(label),
                    "mean": mean,
                    "t_hac": _finite(row["t_hac"]),
                    "n_obs": n_obs,
                    "share": float(row["share"]),
                }
            )
            if mean is not None and (worst is None or mean < worst[0]):
                worst = (mean, str(label), n_obs)
        out[key] = RegimeIc(
            rows=tuple(rows),
            worst_regime=None if worst is None else worst[1],
            worst_regime_ic=None if worst is None else worst[0],
            worst_regime_n_obs=0 if worst is None else worst[2],
        )
    return RegimeStage(method, states, out, None, records)
