"""What a sweep run returns: where its outputs are, how its chunks were obtained, what it found."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crypto_analyzer.pipeline.sweep.evaluate import TrialOutcome
from crypto_analyzer.pipeline.sweep.family import SweepFamily

__all__ = ["SweepResult"]


@dataclass(frozen=True)
class SweepResult:
    """Where the sweep's outputs are and what it found."""

    run_instance_id: str
    run_key: str
    dataset_id: str
    n_trials: int
    n_chunks: int
    chunks_evaluated: int
    chunks_resumed: int
    resumed_from: str | None
    executor: str
    family: SweepFamily
    trials: tuple[TrialOutcome, ...]
    artifacts: dict[str, str] = field(default_factory=dict)
    """Logical name → sha256 of every artifact written."""

    def best(self, n: int = 10) -> list[dict[str, Any]]:
        """The ``n`` trials with the largest HAC t (ties by trial index)."""
        rows = []
        for position, item in enumerate(self.trials):
            rows.append(
                {
                    "bh_p": self.family.bh_p[position],
                    "dsr": self.family.dsr[position],
                    "hypothesis_id": item.spec.hypothesis_id,
                    **item.spec.to_dict(),
                    "ic_mean": item.ic_mean,
                    "net_sharpe": item.net_sharpe,
                    "rw_p": self.family.rw_p[position],
                    "t_hac": item.t_hac,
                }
            )
        ranked = sorted(rows, key=lambda r: (-(r["t_hac"] or float("-inf")), r["index"]))
        return ranked[:n]

    def to_dict(self) -> dict[str, Any]:
        return {
            "artifacts": dict(sorted(self.artifacts.items())),
            "best": self.best(),
            "chunks": {
                "evaluated": self.chunks_evaluated,
                "resumed": self.chunks_resumed,
                "total": self.n_chunks,
            },
            "dataset_id": self.dataset_id,
            "executor": self.executor,
            "family": self.family.to_dict(),
            "n_trials": self.n_trials,
            "resumed_from": self.resumed_from,
            "run_instance_id": self.run_instance_id,
            "run_key": self.run_key,
        }
