"""Procedures selected by name in the report config (``procedures.extra``), run generically.

The report knows nothing about them beyond the protocol: each runs on the family's inputs with its
parameters from the config and a seed derived from the run key and its name, and its labelled
fields travel into every bundle under ``procedures.<name>``, where a policy rule can read them.
Adding such a procedure therefore touches the plugin and the policy file, never this module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from crypto_analyzer.core.seeding import derive_procedure_seed
from crypto_analyzer.core.versions import SEED_VERSION
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.stats.procedures import ProcedureInputs, ProcedureResult, ProcedureRunner

__all__ = [
    "ProcedureRun",
    "extra_procedures_stage",
    "procedure_rows",
    "procedures_document",
]

SeedLog = list[tuple[str, int | None, int]]


@dataclass(frozen=True)
class ProcedureRun:
    """One selected procedure's run: what ran (name, version, params, seed) and its result."""

    name: str
    version: str
    params: dict[str, Any]
    seed: int
    result: ProcedureResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": self.params,
            "result": self.result.to_dict(),
            "seed": self.seed,
            "version": self.version,
        }


def extra_procedures_stage(
    inputs: ProcedureInputs,
    config: ReportConfig,
    run_key: str,
    seeds: SeedLog,
    runner: ProcedureRunner,
    panels: Callable[[], Mapping[str, tuple[np.ndarray, np.ndarray]]] | None = None,
) -> dict[str, ProcedureRun]:
    """Run every ``procedures.extra`` entry in name order; the seeds used are logged.

    ``panels`` builds the signal/forward-return panels, called once and only when a selected
    procedure declares ``needs_panels``.
    """
    out: dict[str, ProcedureRun] = {}
    with_panels: ProcedureInputs | None = None
    for name, params in config.procedures.resolved_extra().items():
        seed = derive_procedure_seed(run_key, name, version=SEED_VERSION)
        seeds.append((f"procedure:{name}", None, seed))
        given = inputs
        if getattr(runner.registry.get(name), "needs_panels", False) and panels is not None:
            if with_panels is None:
                with_panels = dataclasses.replace(inputs, panels=panels())
            given = with_panels
        result = runner.run(name, given, seed=seed, params=params)
        version = runner.registry.get(name).version
        out[name] = ProcedureRun(name, version, params, seed, result)
    return out


def procedures_document(
    runs: dict[str, ProcedureRun], manifest: list[dict[str, Any]]
) -> dict[str, Any]:
    """The ``stats/procedures.json`` artifact: every selected procedure's full result."""
    return {
        "manifest": manifest,
        "procedures": {name: run.to_dict() for name, run in sorted(runs.items())},
        "schema_version": 1,
    }


def procedure_rows(computation: Any) -> list[dict[str, Any]]:
    """Report rows: per selected procedure and hypothesis, its fields as ``name=value`` text.

    ``computation`` is a ``ReportComputation`` (typed loosely to keep this module below it).
    """
    rows = []
    for name, run in sorted(computation.procedures.items()):
        for key in sorted(computation.hypotheses):
            hypothesis = f"{key[0]}@{key[1]}"
            fields = run.result.fields_for(hypothesis)
            why = run.result.missing_reason or run.result.hypothesis_missing.get(hypothesis)
            rows.append(
                {
                    "fields": ", ".join(f"{k}={_show(v)}" for k, v in sorted(fields.items())),
                    "hypothesis": hypothesis,
                    "missing_reason": why,
                    "procedure": name,
                    "version": run.version,
                }
            )
    return rows


def _show(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
