"""Benchmark a promotion evaluation against a trial ledger of 10,000 trials (SQLite).

Usage::

    .venv/bin/python benchmarks/bench_history.py            # 10,000 trials in scope
    .venv/bin/python benchmarks/bench_history.py --trials 2000

Setup: a real report run on a small synthetic market (its bundles, lineage and trials), then
``--trials`` null trials on the same data appended to the tenant's ledger, all in the candidate's
research scope. Measured, interleaved, best of ``--repeat``:

* ours: ``GovernanceService.evaluate`` of the run's planted-signal candidate — the whole governed
  action (bundle read and re-hash, research history over every trial in scope, policy, report and
  event written in one transaction);
* baseline: the same evaluation in a copy of the workspace whose ledger holds only the run's own
  trials (what an evaluation cost when the gate judged one run) — the difference is what judging
  the research history costs;
* floor: a bare ``sqlite3`` read of the scope's ledger rows (the I/O no implementation avoids).

Target: ours under 0.5 s with 10,000 trials in the ledger.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from crypto_analyzer.core.settings import Settings, load_settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.registry import finish_run, start_run
from crypto_analyzer.db.trial_ledger import NewTrial, append_trials, read_trials
from crypto_analyzer.governance import open_service
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report
from crypto_analyzer.pipeline.workspace import init_workspace

REPORT = {
    "signals": ["volume_shock", "momentum_24h", "low_vol"],
    "horizons": [1, 4],
    "min_assets": 5,
    "factor_window": 240,
    "splits": {"test_size": 480, "min_train_size": 960, "embargo": 4},
    "portfolio": {"k": 4, "target_capital": 10_000.0, "capital_grid": [5_000.0, 10_000.0]},
    "costs": {"fee_bps": 2.0, "half_spread_bps": 1.0, "impact_coef": 0.01},
    "procedures": {"bootstrap_reps": 200, "pbo_blocks": 8},
}


def _settings(directory: Path) -> Settings:
    return load_settings(
        db_url=f"sqlite:///{directory / 'w.sqlite'}", artifacts=f"file://{directory / 'a'}"
    )


def _setup(directory: Path, trials: int) -> tuple[Settings, Settings, str]:
    """Workspace with the report and ``trials`` null trials; a copy with the report only."""
    base = directory / "base"
    base.mkdir(parents=True)
    settings = _settings(base)
    init_workspace(settings)
    engine = create_db_engine(settings.db_url)
    ingest_synthetic(engine, SyntheticMarketConfig(assets=20, days=150, seed=7, planted_ic=0.1))
    result = run_report(settings, ReportConfig.model_validate(REPORT), actor="alice")
    engine.dispose()
    # The copy holds the run's own trials only; both read the same artifact store (lineage names
    # absolute URIs inside it).
    (directory / "small").mkdir()
    shutil.copyfile(base / "w.sqlite", directory / "small" / "w.sqlite")
    key = base / "w.sqlite.service-key"  # the workspace's service key, created by init
    shutil.copyfile(key, directory / "small" / "w.sqlite.service-key")
    (directory / "small" / "w.sqlite.service-key").chmod(0o600)
    small = load_settings(
        db_url=f"sqlite:///{directory / 'small' / 'w.sqlite'}", artifacts=settings.artifacts
    )
    engine = create_db_engine(settings.db_url)
    with engine.connect() as connection:
        anchor = read_trials(connection, settings.tenant, run_instance_id=result.run_instance_id)[0]
    with engine.begin() as connection:
        start_run(
            connection,
            tenant_id=settings.tenant,
            run_key="0" * 64,
            run_instance_id="null-search",
            dataset_id=result.dataset.dataset_id,
            config={"trials": trials},
            actor="bench",
        )
        finish_run(connection, tenant_id=settings.tenant, run_instance_id="null-search",
                   status="failed", error="benchmark null trials")  # fmt: skip
    rng = np.random.default_rng(0)
    batch = [
        NewTrial(
            run_instance_id="null-search",
            run_key="0" * 64,
            dataset_id=anchor.dataset_id,
            data_watermark=anchor.data_watermark,
            signal=f"null_{i}",
            params={"i": i},
            horizon=1 + i % 8,
            freq=anchor.freq,
            instruments=anchor.instruments(),
            start_ms=anchor.start_ms,
            end_ms=anchor.end_ms,
            sharpe=float(rng.normal(0.0, 0.02)),
            skewness=0.0,
            kurtosis=3.0,
            n_returns=anchor.n_returns,
            ic_mean=0.0,
            ic_t=0.0,
            p_value=float(rng.uniform()),
            n_obs=anchor.n_obs,
            family_size=trials,
            family_n_eff=float(trials),
        )
        for i in range(trials)
    ]
    append_trials(engine, settings.tenant, batch, created_at="2025-01-01T00:00:00.000000Z")
    engine.dispose()
    return settings, small, result.run_instance_id


def _candidate(settings: Settings, run: str) -> str:
    with open_service(settings, read_only=False) as service:
        return service.create(
            run_instance_id=run, signal="volume_shock", horizon=1, actor="alice"
        ).candidate_id


def _evaluate(settings: Settings, candidate: str) -> tuple[float, Any]:
    with open_service(settings, read_only=False) as service:
        start = time.perf_counter()
        outcome = service.evaluate(candidate, target="candidate", actor="alice")
        return time.perf_counter() - start, outcome


def _floor(settings: Settings) -> float:
    path = settings.db_url.removeprefix("sqlite:///")
    start = time.perf_counter()
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT * FROM trial_ledger WHERE tenant_id = ? AND freq = ? ORDER BY seq",
            ("default", "1h"),
        ).fetchall()
    assert rows
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="bench-history-"))
    try:
        big, small, run = _setup(directory, args.trials)
        big_candidate, small_candidate = _candidate(big, run), _candidate(small, run)
        ours, base, floor = [], [], []
        outcome = baseline = None
        for _ in range(args.repeat):  # interleaved, so load changes hit both sides alike
            elapsed, baseline = _evaluate(small, small_candidate)
            base.append(elapsed)
            elapsed, outcome = _evaluate(big, big_candidate)
            ours.append(elapsed)
            floor.append(_floor(big))
        assert outcome is not None and baseline is not None
        scope = outcome.report.history["scope"]
        own = baseline.report.history["scope"]["unique_trials"]
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"load average (1, 5, 15 min): {load}")
        print(f"{'task':58} {'best':>8} {'worst':>8}")
        rows = (
            (f"evaluate, {scope['unique_trials']:,} trials in scope (ours)", ours),
            (f"evaluate, the run's own {own} trials only (baseline)", base),
            ("floor: sqlite3 read of the scope's ledger rows", floor),
        )
        for name, values in rows:
            print(f"{name:58} {min(values):8.3f} {max(values):8.3f}")
        print(
            f"ours / baseline {min(ours) / min(base):.2f}x; "
            f"history cost {min(ours) - min(base):.3f} s; "
            f"ours / floor {min(ours) / min(floor):.1f}x; target ours < 0.5 s: "
            f"{'met' if min(ours) < 0.5 else 'MISSED'}"
        )
        print(f"decision: passed={outcome.passed}, {outcome.report.history['scope']}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
