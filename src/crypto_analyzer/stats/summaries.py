"""Schema-versioned JSON summaries of statistical results (builders only; no I/O)."""

from __future__ import annotations

from typing import Any

import numpy as np

from crypto_analyzer.stats._serialize import plain
from crypto_analyzer.stats.dsr import DsrResult
from crypto_analyzer.stats.family import FamilyTestsResult
from crypto_analyzer.stats.hac import HacResult
from crypto_analyzer.stats.multitest import AdjustedPValues
from crypto_analyzer.stats.pbo import PboResult
from crypto_analyzer.stats.psr import PsrResult
from crypto_analyzer.stats.reality_check import RealityCheckResult
from crypto_analyzer.stats.spa import SpaResult
from crypto_analyzer.stats.stepm import StepMResult

__all__ = [
    "FAMILY_SUMMARY_SCHEMA",
    "PBO_SUMMARY_SCHEMA",
    "SCHEMA_VERSION",
    "STATS_OVERVIEW_SCHEMA",
    "family_summary",
    "pbo_summary",
    "stats_overview",
]

SCHEMA_VERSION = 1
"""Bumped whenever a field of any summary below is renamed, removed or changes meaning."""
FAMILY_SUMMARY_SCHEMA = "crypto-analyzer/stats/family-summary"
PBO_SUMMARY_SCHEMA = "crypto-analyzer/stats/pbo-summary"
STATS_OVERVIEW_SCHEMA = "crypto-analyzer/stats/overview"
_LOGIT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def family_summary(
    *,
    reality_check: RealityCheckResult | None = None,
    spa: SpaResult | None = None,
    stepm: StepMResult | None = None,
    family: FamilyTestsResult | None = None,
) -> dict[str, Any]:
    """RC / SPA / Romano-Wolf summary (``schema_version`` 1).

    Pass either ``family`` or any of the three individual results. Each present component keeps
    all of its fields (p-values, draws requested and actual, block length, bootstrap, seed,
    hypothesis ids, skip reason); absent ones are ``None``.
    """
    if family is not None:
        if any(x is not None for x in (reality_check, spa, stepm)):
            raise ValueError("pass either family or individual results, not both")
        reality_check, spa, stepm = family.reality_check, family.spa, family.stepm
    for name, value, kind in (
        ("reality_check", reality_check, RealityCheckResult),
        ("spa", spa, SpaResult),
        ("stepm", stepm, StepMResult),
    ):
        if value is not None and not isinstance(value, kind):
            raise TypeError(f"{name} must be a {kind.__name__} or None, got {type(value).__name__}")
    if reality_check is None and spa is None and stepm is None:
        raise ValueError("family_summary needs at least one result")
    return {
        "schema": FAMILY_SUMMARY_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "reality_check": None if reality_check is None else reality_check.to_dict(),
        "spa": None if spa is None else spa.to_dict(),
        "stepm": None if stepm is None else stepm.to_dict(),
    }


def pbo_summary(result: PboResult) -> dict[str, Any]:
    """PBO summary (``schema_version`` 1): PBO, degradation, loss probability, logit quantiles."""
    if not isinstance(result, PboResult):
        raise TypeError(f"result must be a PboResult, got {type(result).__name__}")
    quantiles = np.quantile(result.logits, _LOGIT_QUANTILES)
    return {
        "schema": PBO_SUMMARY_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "pbo": result.pbo,
        "probability_of_loss": result.probability_of_loss,
        "degradation_slope": plain(result.degradation_slope),
        "degradation_intercept": plain(result.degradation_intercept),
        "logit_mean": float(np.mean(result.logits)),
        "logit_quantiles": {
            f"{q:.2f}": float(x) for q, x in zip(_LOGIT_QUANTILES, quantiles, strict=True)
        },
        "n_blocks": result.n_blocks,
        "n_splits": result.n_splits,
        "enumeration": result.enumeration,
        "metric": result.metric,
        "n_obs": result.n_obs,
        "n_strategies": result.n_strategies,
        "seed": result.seed,
    }


def stats_overview(
    *,
    hac: HacResult | None = None,
    psr: PsrResult | None = None,
    dsr: DsrResult | None = None,
    pbo: PboResult | None = None,
    family: FamilyTestsResult | None = None,
    multiple_testing: AdjustedPValues | None = None,
) -> dict[str, Any]:
    """Overview of a candidate's statistics (``schema_version`` 1); absent parts are ``None``."""
    parts = {
        "hac": (hac, HacResult),
        "psr": (psr, PsrResult),
        "dsr": (dsr, DsrResult),
        "pbo": (pbo, PboResult),
        "family": (family, FamilyTestsResult),
        "multiple_testing": (multiple_testing, AdjustedPValues),
    }
    out: dict[str, Any] = {"schema": STATS_OVERVIEW_SCHEMA, "schema_version": SCHEMA_VERSION}
    for name, (value, kind) in parts.items():
        if value is not None and not isinstance(value, kind):
            raise TypeError(f"{name} must be a {kind.__name__} or None, got {type(value).__name__}")
        out[name] = None
    out["hac"] = None if hac is None else hac.to_dict()
    out["psr"] = None if psr is None else psr.to_dict()
    out["dsr"] = None if dsr is None else dsr.to_dict()
    out["pbo"] = None if pbo is None else pbo_summary(pbo)
    out["family"] = None if family is None else family_summary(family=family)
    out["multiple_testing"] = None if multiple_testing is None else multiple_testing.to_dict()
    return out
