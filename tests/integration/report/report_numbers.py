"""Print every number of a small report computation as canonical JSON (run as a script).

Used by ``test_procedure_registry_numbers.py`` to compare the code before the statistical
procedures moved to the registry (extracted from git) with the current code: both run this same
script, so only the code under ``PYTHONPATH`` differs. Uses only APIs both versions have.
"""

from __future__ import annotations

import sys
from typing import Any

from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, generate_market
from crypto_analyzer.pipeline.report.bundle import horizon_evidence
from crypto_analyzer.pipeline.report.compute import compute_report
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.stats import family_summary, pbo_summary
from crypto_analyzer.stats._serialize import plain

CONFIG = {
    "signals": ["momentum_24h", "short_reversal", "low_vol", "volume_shock"],
    "horizons": [1, 4],
    "min_assets": 6,
    "factor_window": 120,
    "splits": {"test_size": 240, "min_train_size": 480, "embargo": 4},
    "procedures": {"bootstrap_reps": 200, "pbo_blocks": 8, "break_reps": 99},
    "portfolio": {"k": 3, "target_capital": 10_000.0, "capital_grid": [1e4, 1e5]},
}
MARKET = SyntheticMarketConfig(assets=12, days=60, seed=11, planted_ic=0.04)


def numbers() -> dict[str, Any]:
    instruments, bars = generate_market(MARKET)
    config = ReportConfig.model_validate(CONFIG)
    result = compute_report(
        bars, instruments, config, run_key="ab" * 32, dataset_id="strict:" + "d" * 64
    )
    hypotheses = {}
    for (signal, horizon), item in sorted(result.hypotheses.items()):
        evidence = horizon_evidence(item, result, config).model_dump(mode="json")
        evidence.pop("procedures", None)  # the registry's generic field (empty here)
        hypotheses[f"{signal}@{horizon}"] = {
            "bh_p": item.bh_p,
            "by_p": item.by_p,
            "evidence": evidence,
            "ic": item.ic.to_dict(),
            "p_value": item.p_value,
            "p_value_missing_reason": item.p_value_missing_reason,
            "rw_p": item.rw_p,
            "sharpe": plain(item.sharpe),
        }
    return {
        "attestation": result.attestation,
        "breaks": result.breaks,
        "effective_trials": result.effective_trials,
        "family": None if result.family is None else family_summary(family=result.family),
        "family_skip_reason": result.family_skip_reason,
        "hypotheses": hypotheses,
        "pbo": None if result.pbo is None else pbo_summary(result.pbo),
        "pbo_skip_reason": result.pbo_skip_reason,
        "seeds": [list(seed) for seed in result.seeds],
    }


if __name__ == "__main__":
    sys.stdout.buffer.write(canonical_bytes(plain(numbers())))
