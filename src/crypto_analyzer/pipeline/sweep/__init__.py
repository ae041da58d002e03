"""Parameter sweeps: a grid of single-hypothesis reports, evaluated in-process or on Dask, every
trial in the ledger, family statistics over the whole search (see docs/sweeps.md)."""

from __future__ import annotations

from crypto_analyzer.pipeline.sweep.executor import make_executor
from crypto_analyzer.pipeline.sweep.run import SweepProgress, SweepResult, run_sweep
from crypto_analyzer.pipeline.sweep.spec import (
    SweepConfig,
    TrialSpec,
    expand_trials,
    load_sweep_config,
    parse_sweep_config,
)

__all__ = [
    "SweepConfig",
    "SweepProgress",
    "SweepResult",
    "TrialSpec",
    "expand_trials",
    "load_sweep_config",
    "make_executor",
    "parse_sweep_config",
    "run_sweep",
]
