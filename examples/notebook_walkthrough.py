"""The whole job through the Python facade, as a notebook would do it.

    python examples/notebook_walkthrough.py --dir /tmp/walkthrough

Creates a sandbox workspace in ``--dir`` (a new temporary directory by default), ingests the
seeded synthetic market with one planted signal, runs the research report from a plain dict,
loads the results as pandas objects, applies statistics that keep the DataFrame's labels,
creates a candidate for the planted signal, evaluates it (researcher, then a second principal
for ``accepted``), traces and verifies the audit trail, and reproduces the run byte for byte.
Prints a JSON summary (``--json``) or a short text one. The same data and config through the CLI
(``ingest synthetic`` with the same market options, ``report --config``) give the same run key:
``tests/e2e/test_notebook_example.py`` checks it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import crypto_analyzer as ca

MARKET: dict[str, Any] = {"assets": 16, "days": 150, "seed": 11, "planted_ic": 0.1}
"""The synthetic market: 16 assets, 150 days of hourly bars, the volume shock planted."""

CONFIG: dict[str, Any] = {
    "signals": ["volume_shock", "momentum_24h", "short_reversal"],
    "horizons": [1, 4],
    "min_assets": 10,
    "factor_window": 240,
    "splits": {"test_size": 480, "min_train_size": 960, "embargo": 4},
    "portfolio": {"k": 3, "target_capital": 10000.0, "capital_grid": [5000.0, 10000.0, 50000.0]},
    "costs": {"fee_bps": 2.0, "half_spread_bps": 1.0, "impact_coef": 0.01},
    "procedures": {"bootstrap_reps": 400, "pbo_blocks": 8},
}
"""The report config, shaped like the TOML file `crypto-analyzer report --config` reads."""

RESEARCHER = "notebook-researcher"
REVIEWER = "notebook-reviewer"


def walkthrough(directory: Path) -> dict[str, Any]:
    """Run every step in ``directory``; returns what a notebook would look at."""
    workspace = ca.open_workspace(str(directory), create=True, sandbox=True)
    ingest = workspace.ingest_synthetic(ca.SyntheticMarketConfig(**MARKET))
    result = workspace.run_report(CONFIG, actor=RESEARCHER)
    run_id = result.run_instance_id

    ic = workspace.ic_series(run_id)  # bars × "signal@horizon"
    hypotheses = workspace.hypotheses(run_id)  # indexed by (signal, horizon)
    returns = workspace.portfolio_returns(run_id)
    bundles = workspace.bundles(run_id)  # one row per signal

    hac = ca.statistics.newey_west(ic.dropna())  # one row per hypothesis, labels kept
    adjusted = ca.statistics.adjust_pvalues(hac["p_value"], method="bh")
    planted = ic["volume_shock@1"].dropna()
    mde = ca.statistics.minimum_detectable_ic(planted, family_size=len(ic.columns))
    power = ca.statistics.ic_power(planted, true_ic=MARKET["planted_ic"],
                                   family_size=len(ic.columns))  # fmt: skip

    candidate = workspace.create_candidate(run_id, "volume_shock", 1, actor=RESEARCHER)
    evaluation = workspace.evaluate(candidate.candidate_id, target="candidate", actor=RESEARCHER)
    if evaluation.passed:
        evaluation = workspace.evaluate(candidate.candidate_id, target="accepted", actor=REVIEWER)
    reproduction = workspace.reproduce(candidate.candidate_id, actor=REVIEWER)
    trace = workspace.trace(candidate.candidate_id)
    verify = workspace.verify()
    return {
        "adjusted_p": {str(k): float(v) for k, v in adjusted["adjusted"].items()},
        "bundles": sorted(bundles.index),
        "candidate": candidate.candidate_id,
        "dataset_id": result.dataset.dataset_id.value,
        "hypotheses": len(hypotheses),
        "ic_columns": list(ic.columns),
        "ingested_bars": ingest["n_accepted"],
        "mde_ic": mde.mde,
        "planted_power": power,
        "reproduced": reproduction.status,
        "returns_rows": len(returns),
        "run_instance_id": run_id,
        "run_key": result.run_key,
        "runs": len(workspace.runs()),
        "status": evaluation.candidate.status,
        "trace_events": [event["event_type"] for event in trace["events"]],
        "verify_ok": verify.ok,
        "workspace": str(directory),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="workspace directory")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="crypto-analyzer-notebook-"))
    summary = walkthrough(directory)
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print(f"run {summary['run_instance_id']} (run_key {summary['run_key'][:16]}…)")
        print(f"volume_shock@1: minimum detectable IC {summary['mde_ic']:.4f}, "
              f"power at the planted IC {summary['planted_power']:.3f}")  # fmt: skip
        print(f"candidate {summary['candidate']}: {summary['status']}; reproduced: "
              f"{summary['reproduced']}; audit verify ok: {summary['verify_ok']}")  # fmt: skip
    return summary


if __name__ == "__main__":
    main()
