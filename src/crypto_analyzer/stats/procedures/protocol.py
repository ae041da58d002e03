"""The ``Procedure`` protocol: what a statistical procedure (built-in or plugin) must provide.

A procedure is a named, versioned, pure computation over one family of hypotheses: arrays in
(:class:`ProcedureInputs`), labelled scalars out (:class:`ProcedureResult`), with its parameters
validated by its own pydantic model and its randomness taken only from the seed in
:class:`ProcedureContext`. That is all the report and the policy need to run a procedure, carry its
numbers into the validation bundle and judge them — so adding a procedure touches the plugin and the
policy file, not the pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict

from crypto_analyzer.stats._serialize import plain

__all__ = [
    "Procedure",
    "ProcedureContext",
    "ProcedureInputs",
    "ProcedureParams",
    "ProcedureResult",
    "Scalar",
]

Scalar = float | int | bool | str | None
"""A result field: what a policy rule can compare and canonical JSON can carry."""


class ProcedureParams(BaseModel):
    """Base for parameter models: frozen, unknown keys refused, no NaN/inf."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


@dataclass(frozen=True)
class ProcedureInputs:
    """One family of hypotheses as the report measured it, out of sample.

    Attributes
    ----------
    hypothesis_ids : tuple of str
        Column order of every matrix, e.g. ``"momentum_24h@4"``.
    horizons : tuple of int
        Label horizon (bars) of each hypothesis.
    oos_ic : numpy.ndarray
        ``(T, N)`` out-of-sample IC per timestamp; NaN where a hypothesis has no value.
    net_returns : numpy.ndarray
        ``(T2, N)`` out-of-sample portfolio returns net of costs; NaN where missing.
    p_values : tuple of float or None
        One-sided p-value of each hypothesis' HAC t of the mean IC (``None``: no HAC t).
    panels : mapping of str to (numpy.ndarray, numpy.ndarray), optional
        Per hypothesis id: its signal and forward-return panels ``(T3, A)`` on the test rows.
        Large, so the report fills them only for a procedure whose class sets
        ``needs_panels = True``; ``None`` otherwise.
    """

    hypothesis_ids: tuple[str, ...]
    horizons: tuple[int, ...]
    oos_ic: np.ndarray
    net_returns: np.ndarray
    p_values: tuple[float | None, ...]
    panels: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None

    def __post_init__(self) -> None:
        n = len(self.hypothesis_ids)
        if len(set(self.hypothesis_ids)) != n:
            raise ValueError("hypothesis_ids must be unique")
        for name in ("oos_ic", "net_returns"):
            matrix = getattr(self, name)
            if not isinstance(matrix, np.ndarray) or matrix.ndim != 2 or matrix.shape[1] != n:
                raise ValueError(f"{name} must be a 2-D array with one column per hypothesis")
            matrix.setflags(write=False)
        if len(self.horizons) != n or len(self.p_values) != n:
            raise ValueError("horizons and p_values need one entry per hypothesis")

    def select(self, index: int) -> ProcedureInputs:
        """The one-hypothesis family of column ``index`` (for per-hypothesis procedures)."""
        return ProcedureInputs(
            hypothesis_ids=(self.hypothesis_ids[index],),
            horizons=(self.horizons[index],),
            oos_ic=self.oos_ic[:, index : index + 1].copy(),
            net_returns=self.net_returns[:, index : index + 1].copy(),
            p_values=(self.p_values[index],),
            panels=(
                None
                if self.panels is None
                else {k: v for k, v in self.panels.items() if k == self.hypothesis_ids[index]}
            ),
        )


@dataclass(frozen=True)
class ProcedureContext:
    """What a run may depend on besides the inputs: the validated params and one seed.

    Same inputs + same context ⇒ same result; the runner checks this by re-running.
    """

    params: BaseModel
    seed: int


def _check_scalar(where: str, value: Any) -> Scalar:
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{where} is {number}; report a missing value as None with a reason")
        return number
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    raise TypeError(f"{where} must be a number, bool, string or None, got {type(value).__name__}")


@dataclass(frozen=True)
class ProcedureResult:
    """Labelled scalars of one procedure run, plus an optional typed detail for built-in users.

    Attributes
    ----------
    family : mapping of str to Scalar
        Fields about the whole family (e.g. ``p_value`` of a joint test).
    hypotheses : mapping of str to mapping of str to Scalar
        Fields per hypothesis id (e.g. ``adjusted_p``); a hypothesis may be absent.
    missing_reason : str or None
        Why the procedure computed nothing (e.g. a family of one); its fields are then empty.
    hypothesis_missing : mapping of str to str
        Why a field of one hypothesis is ``None``.
    detail : object or None
        The full typed result (e.g. ``FamilyTestsResult``) with ``to_dict()``; only code that
        knows the procedure reads it, the bundle never does.
    """

    family: Mapping[str, Scalar] = field(default_factory=dict)
    hypotheses: Mapping[str, Mapping[str, Scalar]] = field(default_factory=dict)
    missing_reason: str | None = None
    hypothesis_missing: Mapping[str, str] = field(default_factory=dict)
    detail: Any = None

    def __post_init__(self) -> None:
        for key, value in self.family.items():
            _check_scalar(f"family field {key!r}", value)
        for hypothesis, fields in self.hypotheses.items():
            for key, value in fields.items():
                _check_scalar(f"field {key!r} of {hypothesis!r}", value)
                if key in self.family:
                    raise ValueError(
                        f"field {key!r} is both a family field and a field of {hypothesis!r}"
                    )

    def fields_for(self, hypothesis_id: str) -> dict[str, Scalar]:
        """Family fields together with ``hypothesis_id``'s own: what the bundle carries."""
        own = self.hypotheses.get(hypothesis_id, {})
        return {
            **{k: plain(v) for k, v in self.family.items()},
            **{k: plain(v) for k, v in own.items()},
        }

    def to_dict(self) -> dict[str, Any]:
        """Canonical-JSON-compatible; what the determinism check and the artifact compare."""
        detail = self.detail
        return {
            "detail": None if detail is None else plain(detail.to_dict()),
            "family": plain(dict(self.family)),
            "hypotheses": {k: plain(dict(v)) for k, v in self.hypotheses.items()},
            "hypothesis_missing": dict(self.hypothesis_missing),
            "missing_reason": self.missing_reason,
        }


@runtime_checkable
class Procedure(Protocol):
    """A statistical procedure. ``run`` must be a pure function of ``inputs`` and ``ctx``.

    ``name`` is the registry key and the name the report config and policy rules use;
    ``version`` changes whenever the output for the same inputs can change.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    params_model: ClassVar[type[BaseModel]]

    def run(self, inputs: ProcedureInputs, ctx: ProcedureContext) -> ProcedureResult: ...
