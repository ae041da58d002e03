"""Statistical procedures as plugins: one protocol, one registry, one runner.

See :mod:`.protocol` for what a procedure provides, :mod:`.registry` for discovery (built-ins in
code, plugins through the ``crypto_analyzer.stat_procedures`` entry points) and :mod:`.runner` for
how a run is checked for determinism.
"""

from __future__ import annotations

from crypto_analyzer.stats.procedures.protocol import (
    Procedure,
    ProcedureContext,
    ProcedureInputs,
    ProcedureParams,
    ProcedureResult,
    Scalar,
)
from crypto_analyzer.stats.procedures.registry import (
    ENTRY_POINT_GROUP,
    ProcedureRegistry,
    RegisteredProcedure,
    default_registry,
    reset_default_registry,
)
from crypto_analyzer.stats.procedures.runner import (
    BUILTIN_CHECK_SHARE,
    NonDeterministicProcedureError,
    ProcedureRunner,
)

__all__ = [
    "BUILTIN_CHECK_SHARE",
    "ENTRY_POINT_GROUP",
    "NonDeterministicProcedureError",
    "Procedure",
    "ProcedureContext",
    "ProcedureInputs",
    "ProcedureParams",
    "ProcedureRegistry",
    "ProcedureResult",
    "ProcedureRunner",
    "RegisteredProcedure",
    "Scalar",
    "default_registry",
    "reset_default_registry",
]
