"""The sweep file (``sweep.toml``): signals with parameter grids × horizons × universes × costs.

A sweep is a search, so its shape is validated before any data is read: signal names and
parameters against the registry, every grid value against the report's bounds, and the size of
the expanded search against :data:`MAX_SWEEP_TRIALS`. Expansion is a pure function of the
*resolved* sweep (the dict its run key hashes): universes and cost scenarios are tables, whose
key order canonical JSON does not keep, so they are expanded in sorted-name order; signals and
grid values are lists and keep the order written. Each trial is then an ordinary single-hypothesis
report config (:func:`trial_report_config`), evaluated by the report's own code.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crypto_analyzer.core.config_files import (
    check_nesting,
    describe_value,
    parse_toml,
    read_config_file,
)
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.pipeline.report.config import (
    CostConfig,
    PortfolioConfig,
    ProcedureConfig,
    ReportConfig,
    SplitConfig,
)
from crypto_analyzer.pipeline.report.limits import (
    MAX_BARS,
    MAX_BOOTSTRAP_REPS,
    MAX_HORIZONS,
    MAX_MIN_ASSETS,
    MAX_NAME_CHARS,
    MAX_SIGNALS,
)
from crypto_analyzer.research.signal_registry import SIGNALS, signal_names

__all__ = [
    "ALL_INSTRUMENTS",
    "MAX_CHUNK_SIZE",
    "MAX_GRID_VALUES",
    "MAX_SWEEP_TRIALS",
    "MAX_UNIVERSES",
    "GridRange",
    "SignalGrid",
    "SweepConfig",
    "SweepReportSettings",
    "TrialSpec",
    "expand_trials",
    "load_sweep_config",
    "parse_sweep_config",
    "trial_report_config",
]

MAX_SWEEP_TRIALS = 10_000
"""Trials per sweep. The family statistics hold a ``(reps, trials)`` bootstrap matrix; with the
budget below, 10,000 trials allow 2,560 draws (205 MB, the report's own ceiling)."""
_BOOTSTRAP_CELLS = MAX_BOOTSTRAP_REPS * 512
MAX_GRID_VALUES = 1_000
"""Values one parameter's grid may list or generate."""
MAX_UNIVERSES = 64
MAX_CHUNK_SIZE = 1_000
"""Trials per task: a lost worker costs at most one chunk; a resume redoes only unfinished ones."""
ALL_INSTRUMENTS: Literal["all"] = "all"
"""The universe of every instrument of the frequency (what a report uses)."""

_Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=r"^[A-Za-z0-9_.-]+$")]
_Instrument = Annotated[str, Field(min_length=1, max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class GridRange(_Model):
    """``{ first = 12, last = 96, step = 12 }``: every value from first to last (inclusive)."""

    first: int = Field(ge=0, le=MAX_BARS)
    last: int = Field(ge=0, le=MAX_BARS)
    step: int = Field(1, ge=1, le=MAX_BARS)

    @model_validator(mode="after")
    def _ordered(self) -> GridRange:
        if self.last < self.first:
            raise ValueError(f"last ({self.last}) must be >= first ({self.first})")
        if (self.last - self.first) // self.step + 1 > MAX_GRID_VALUES:
            raise ValueError(f"the range generates more than {MAX_GRID_VALUES} values")
        return self

    def values(self) -> tuple[int, ...]:
        return tuple(range(self.first, self.last + 1, self.step))


_GridValue = Annotated[int, Field(ge=0, le=MAX_BARS)]
Grid = _GridValue | tuple[_GridValue, ...] | GridRange
"""One value, a list of values, or a range."""


def _grid_values(grid: Grid) -> tuple[int, ...]:
    if isinstance(grid, GridRange):
        return grid.values()
    return (grid,) if isinstance(grid, int) else tuple(grid)


class SignalGrid(_Model):
    """One registered signal and a grid per parameter (a list of values, or a range)."""

    name: _Name
    params: dict[str, Grid] = Field(default_factory=dict)

    @field_validator("params", mode="before")
    @classmethod
    def _ranges(cls, value: Any) -> Any:
        """A table is a range: validate it as one, so its error is the one reported."""
        if not isinstance(value, Mapping):
            return value
        out = {}
        for param, grid in value.items():
            if isinstance(grid, Mapping):
                try:
                    grid = GridRange.model_validate(dict(grid))
                except pydantic.ValidationError as exc:
                    first = exc.errors()[0]
                    where = ".".join(str(part) for part in first["loc"])
                    detail = str(first["msg"]).removeprefix("Value error, ")
                    raise ValueError(
                        f"range of {param!r}{' ' + where if where else ''}: {detail}"
                    ) from None
            out[param] = grid
        return out

    @model_validator(mode="after")
    def _registered(self) -> SignalGrid:
        if self.name not in SIGNALS:
            raise ValueError(
                f"unknown signal {self.name!r}; registered: {', '.join(signal_names())}"
            )
        declared = SIGNALS[self.name].defaults
        extra = sorted(set(self.params) - set(declared))
        if extra:
            raise ValueError(
                f"signal {self.name!r}: unknown parameter(s) {', '.join(map(repr, extra))}; "
                f"declared: {', '.join(sorted(declared)) or 'none'}"
            )
        for param, grid in self.params.items():
            values = _grid_values(grid)
            if not values or len(values) > MAX_GRID_VALUES or len(set(values)) != len(values):
                raise ValueError(
                    f"signal {self.name!r}: the grid of {param!r} must list 1 to "
                    f"{MAX_GRID_VALUES} distinct values"
                )
        return self

    def combinations(self) -> list[dict[str, int]]:
        """Parameter dicts in grid order (parameters by name, values as written)."""
        names = sorted(self.params)
        grids = [_grid_values(self.params[name]) for name in names]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grids)]


class SweepReportSettings(_Model):
    """The report settings every trial shares (everything but the swept dimensions)."""

    min_assets: int = Field(10, ge=3, le=MAX_MIN_ASSETS)
    factor_window: int = Field(720, ge=24, le=MAX_BARS)
    factor_lag: int = Field(1, ge=1, le=MAX_BARS)
    splits: SplitConfig = SplitConfig()
    portfolio: PortfolioConfig = PortfolioConfig()
    procedures: ProcedureConfig = ProcedureConfig()


Universe = Literal["all"] | tuple[_Instrument, ...]


def _all_instruments() -> dict[str, Universe]:
    return {"all": ALL_INSTRUMENTS}


class SweepConfig(_Model):
    """The whole sweep; :meth:`resolved` is what its run key hashes."""

    name: str = Field("sweep", max_length=200, description="run metadata, not identity")
    freq: Literal["5min", "15min", "1h", "1D"] = "1h"
    signals: tuple[SignalGrid, ...] = Field(min_length=1, max_length=MAX_SIGNALS)
    horizons: tuple[Annotated[int, Field(ge=1, le=MAX_BARS)], ...] = Field(
        (1,), min_length=1, max_length=MAX_HORIZONS
    )
    universes: dict[_Name, Universe] = Field(
        default_factory=_all_instruments, min_length=1, max_length=MAX_UNIVERSES
    )
    costs: dict[_Name, CostConfig] = Field(
        default_factory=lambda: {"base": CostConfig()}, min_length=1, max_length=MAX_UNIVERSES
    )
    report: SweepReportSettings = SweepReportSettings()
    chunk_size: int = Field(25, ge=1, le=MAX_CHUNK_SIZE, description="trials per task")

    @field_validator("horizons")
    @classmethod
    def _horizons(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if list(value) != sorted(set(value)):
            raise ValueError("horizons must be increasing positive bar counts, e.g. [1, 4, 12]")
        return value

    @field_validator("universes")
    @classmethod
    def _universes(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, members in value.items():
            if members == ALL_INSTRUMENTS:
                continue
            if len(members) < 3 or len(set(members)) != len(members):
                raise ValueError(
                    f'universe {name!r} must be "all" or a list of at least 3 distinct '
                    "instrument ids"
                )
        return value

    @model_validator(mode="after")
    def _size(self) -> SweepConfig:
        n = self.n_trials
        if n > MAX_SWEEP_TRIALS:
            raise ValueError(
                f"the sweep expands to {n:,} trials; the limit is {MAX_SWEEP_TRIALS:,} "
                "(split the search into several sweeps — they all count in the ledger)"
            )
        reps = self.report.procedures.bootstrap_reps
        if n * reps > _BOOTSTRAP_CELLS:
            raise ValueError(
                f"{n:,} trials × {reps:,} bootstrap draws exceeds {_BOOTSTRAP_CELLS:,} cells "
                "(lower report.procedures.bootstrap_reps)"
            )
        return self

    @property
    def n_trials(self) -> int:
        per_signal = sum(len(grid.combinations()) for grid in self.signals)
        return per_signal * len(self.horizons) * len(self.universes) * len(self.costs)

    @property
    def purge(self) -> int:
        """One purge for every trial (the longest swept horizon unless set): one fold plan."""
        purge = self.report.splits.purge
        return purge if purge is not None else max(self.horizons)

    def resolved(self) -> dict[str, Any]:
        """The canonical dict that the sweep's run key hashes (the name is metadata)."""
        return {"sweep": self.model_dump(mode="json", exclude={"name"})}


@dataclass(frozen=True, slots=True)
class TrialSpec:
    """One point of the grid: a single-hypothesis report on one universe under one cost."""

    index: int
    signal: str
    params: Mapping[str, int]
    horizon: int
    universe: str
    cost: str

    @property
    def variant(self) -> str:
        """Short content id: the same grid point has the same variant in every sweep."""
        return sha256_json(
            {
                "cost": self.cost,
                "horizon": self.horizon,
                "params": dict(self.params),
                "signal": self.signal,
                "universe": self.universe,
            }
        )[:12]

    @property
    def hypothesis_id(self) -> str:
        return f"{self.signal}@{self.horizon}#{self.variant}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "cost": self.cost,
            "horizon": self.horizon,
            "index": self.index,
            "params": dict(self.params),
            "signal": self.signal,
            "universe": self.universe,
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> TrialSpec:
        return cls(
            index=int(value["index"]),
            signal=str(value["signal"]),
            params={str(k): int(v) for k, v in value["params"].items()},
            horizon=int(value["horizon"]),
            universe=str(value["universe"]),
            cost=str(value["cost"]),
        )


def expand_trials(config: SweepConfig) -> tuple[TrialSpec, ...]:
    """Every trial, in a order fixed by the resolved sweep: signal (as listed) → parameter grid →
    horizon → universe (by name) → cost scenario (by name)."""
    trials: list[TrialSpec] = []
    for grid in config.signals:
        for params in grid.combinations():
            for horizon in config.horizons:
                for universe in sorted(config.universes):
                    for cost in sorted(config.costs):
                        trials.append(
                            TrialSpec(len(trials), grid.name, params, horizon, universe, cost)
                        )
    return tuple(trials)


def trial_report_config(config: SweepConfig, trial: TrialSpec) -> ReportConfig:
    """The report config that evaluates ``trial``: one signal, one horizon, the trial's costs,
    and the sweep's purge (so every trial is tested on the same folds)."""
    report = config.report
    return ReportConfig(
        freq=config.freq,
        signals=(trial.signal,),
        signal_params={trial.signal: dict(trial.params)} if trial.params else {},
        horizons=(trial.horizon,),
        min_assets=report.min_assets,
        factor_window=report.factor_window,
        factor_lag=report.factor_lag,
        splits=report.splits.model_copy(update={"purge": config.purge}),
        portfolio=report.portfolio,
        costs=config.costs[trial.cost],
        procedures=report.procedures,
    )


def load_sweep_config(path: Path) -> SweepConfig:
    """Read and validate ``sweep.toml``; each invalid value is a :class:`ConfigError` naming the
    key, the value (shortened) and the rule it breaks."""
    what = f"sweep config {path}"
    data = parse_toml(read_config_file(path, what=what), what=what)
    check_nesting(data, what="sweep config")
    return parse_sweep_config(data)


def parse_sweep_config(data: Mapping[str, Any]) -> SweepConfig:
    """Validate an already-parsed sweep mapping (a file, or a stored run's resolved config)."""
    try:
        return SweepConfig.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["loc"]:
            where = ".".join(str(part) for part in first["loc"])
            value = "" if first["type"] == "missing" else f" = {describe_value(first['input'])}"
            message = f"{where}{value}: {message}"
        raise ConfigError(f"sweep config: {message}", "fix the sweep TOML file") from None
