"""Registration of every built-in statistical procedure, in code.

Registered here rather than only through this project's own entry points so the built-ins exist
however the package is installed (an editable install with stale metadata, a source checkout on
``PYTHONPATH``); the same classes are also declared as entry points in ``pyproject.toml``, which the
registry recognises as the same procedure rather than a clash.
"""

from __future__ import annotations

from crypto_analyzer.stats.procedures.builtins_family import (
    FamilyTestsProcedure,
    RealityCheckProcedure,
    SpaProcedure,
    StepMProcedure,
)
from crypto_analyzer.stats.procedures.builtins_null import NullSuiteProcedure
from crypto_analyzer.stats.procedures.builtins_series import (
    BenjaminiHochbergProcedure,
    BenjaminiYekutieliProcedure,
    CusumProcedure,
    HacProcedure,
    HolmProcedure,
    SupFProcedure,
)
from crypto_analyzer.stats.procedures.builtins_sharpe import (
    DsrProcedure,
    PboProcedure,
    PsrProcedure,
)
from crypto_analyzer.stats.procedures.registry import ProcedureRegistry

__all__ = ["BUILTIN_PROCEDURES", "register_builtins"]

BUILTIN_PROCEDURES = (
    FamilyTestsProcedure,
    RealityCheckProcedure,
    SpaProcedure,
    StepMProcedure,
    PboProcedure,
    PsrProcedure,
    DsrProcedure,
    BenjaminiHochbergProcedure,
    BenjaminiYekutieliProcedure,
    HolmProcedure,
    HacProcedure,
    CusumProcedure,
    SupFProcedure,
    NullSuiteProcedure,
)
"""Every procedure class the project ships."""


def register_builtins(registry: ProcedureRegistry) -> ProcedureRegistry:
    """Register one instance of every built-in procedure in ``registry``."""
    for cls in BUILTIN_PROCEDURES:
        registry.register(cls())
    return registry
