"""Running procedures through the registry, with the determinism promise checked.

Every run of a procedure goes through :meth:`ProcedureRunner.run`: params validated by the
procedure's own model, the result's type checked, and — for a sample of runs — the procedure run a
second time with the same inputs and seed. A procedure whose two outputs differ (it reads a clock,
global random state, a file, or keeps state between calls) is refused with
:class:`NonDeterministicProcedureError`: the run key promises that the same data and config give the
same numbers, and a procedure that breaks it cannot take part.

Which runs are re-checked: every run of a procedure that is not a built-in (the untrusted ones), and
a deterministic sample of built-in runs (selected by a hash of the procedure name and the seed, so
a rerun re-checks the same ones). A sampled re-check costs one extra run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from crypto_analyzer.core.errors import PluginError
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.stats.procedures.protocol import (
    ProcedureContext,
    ProcedureInputs,
    ProcedureResult,
)
from crypto_analyzer.stats.procedures.registry import ProcedureRegistry, default_registry

__all__ = ["BUILTIN_CHECK_SHARE", "NonDeterministicProcedureError", "ProcedureRunner"]

BUILTIN_CHECK_SHARE = 0.125
"""Share of built-in procedure runs re-run to check determinism (plugins: every run)."""


class NonDeterministicProcedureError(PluginError):
    """A procedure gave two different results for the same inputs, params and seed."""


class ProcedureRunner:
    """Runs named procedures from one registry and re-checks a sample of runs.

    ``checked`` lists ``(name, seed)`` of every run that was re-run, so a test or a caller can see
    that the check happened.
    """

    def __init__(
        self,
        registry: ProcedureRegistry | None = None,
        *,
        builtin_check_share: float = BUILTIN_CHECK_SHARE,
    ) -> None:
        self.registry = registry if registry is not None else default_registry()
        if not 0.0 <= builtin_check_share <= 1.0:
            raise ValueError(f"builtin_check_share must be in [0, 1], got {builtin_check_share}")
        self._share = builtin_check_share
        self.checked: list[tuple[str, int]] = []

    def _sampled(self, name: str, seed: int) -> bool:
        digest = hashlib.sha256(f"{name}\x00{seed}".encode()).digest()
        return int.from_bytes(digest[:8], "big") < self._share * 2**64

    def run(
        self,
        name: str,
        inputs: ProcedureInputs,
        *,
        seed: int,
        params: Mapping[str, Any] | None = None,
    ) -> ProcedureResult:
        """Run procedure ``name`` on ``inputs`` with ``params`` (validated) and ``seed``."""
        entry = self.registry.entry(name)
        ctx = ProcedureContext(params=self.registry.params(name, dict(params or {})), seed=seed)
        result = self._once(name, entry.source.describe(), inputs, ctx)
        if not entry.builtin or self._sampled(name, seed):
            again = self._once(name, entry.source.describe(), inputs, ctx)
            self.checked.append((name, seed))
            first, second = sha256_json(result.to_dict()), sha256_json(again.to_dict())
            if first != second:
                raise NonDeterministicProcedureError(
                    f"statistical procedure {name!r} ({entry.source.describe()}) is not "
                    f"deterministic: two runs with the same inputs and seed {seed} gave different "
                    f"results (SHA-256 {first[:16]}… vs {second[:16]}…)",
                    "take all randomness from ctx.seed (core.seeding.make_rng) and read no "
                    "clock, file or global state; until then, remove it from the report config",
                )
        return result

    def _once(
        self, name: str, where: str, inputs: ProcedureInputs, ctx: ProcedureContext
    ) -> ProcedureResult:
        result = self.registry.get(name).run(inputs, ctx)
        if not isinstance(result, ProcedureResult):
            raise PluginError(
                f"statistical procedure {name!r} ({where}) returned {type(result).__name__}, "
                "not a ProcedureResult",
                "return crypto_analyzer.stats.procedures.ProcedureResult from run()",
            )
        return result
