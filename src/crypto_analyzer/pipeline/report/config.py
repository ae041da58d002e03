"""Report configuration: every parameter that can change a result, in one validated model.

The resolved config (file + flags + defaults) is what ``run_key`` hashes, so nothing that changes
a number may live outside it; output locations are not part of it (they never change a result).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crypto_analyzer.core.errors import ConfigError

__all__ = [
    "CostConfig",
    "PortfolioConfig",
    "ProcedureConfig",
    "ReportConfig",
    "SplitConfig",
    "load_report_config",
]

_FREQUENCIES = ("5min", "15min", "1h", "1D")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SplitConfig(_Model):
    """Walk-forward (expanding or rolling) or combinatorial purged CV, with purge and embargo."""

    kind: Literal["walk_forward", "cpcv"] = "walk_forward"
    mode: Literal["expanding", "rolling"] = "expanding"
    test_size: int = Field(720, ge=1, description="bars per walk-forward test block")
    min_train_size: int = Field(2160, ge=1, description="bars before the first test block")
    purge: int | None = Field(None, ge=0, description="default: the longest horizon")
    embargo: int = Field(24, ge=0)
    n_groups: int = Field(6, ge=2, description="CPCV groups")
    n_test_groups: int = Field(2, ge=1, description="CPCV test groups per fold")


class CostConfig(_Model):
    """Costs per unit of traded notional (see research.portfolio.CostModel)."""

    fee_bps: float = Field(10.0, ge=0)
    half_spread_bps: float = Field(5.0, ge=0)
    impact_coef: float = Field(0.1, ge=0)
    impact_exponent: float = Field(0.5, ge=0, le=2)


class PortfolioConfig(_Model):
    """Long-short portfolio built from each signal's out-of-sample scores."""

    method: Literal["top_bottom_k", "signal"] = "top_bottom_k"
    k: int = Field(5, ge=1, description="names per side for top_bottom_k")
    rebalance_every: int | None = Field(
        None, ge=1, description="bars between rebalances; default: the hypothesis's horizon"
    )
    ema_halflife: float | None = Field(None, gt=0)
    target_capital: float = Field(1_000_000.0, gt=0)
    capital_grid: tuple[float, ...] = (1e5, 1e6, 1e7, 1e8)
    max_participation: float = Field(0.1, gt=0, le=1)

    @field_validator("capital_grid")
    @classmethod
    def _grid(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(item <= 0 for item in value) or list(value) != sorted(set(value)):
            raise ValueError("capital_grid must be increasing positive amounts, e.g. [1e5, 1e6]")
        return value


class ProcedureConfig(_Model):
    """Statistical procedures over the family of hypotheses (signals × horizons)."""

    bootstrap_reps: int = Field(1000, ge=100, description="B for RC/SPA/Romano–Wolf")
    bootstrap: Literal["stationary", "circular"] = "stationary"
    block_length: float | None = Field(None, gt=0, description="default: Politis–White")
    pbo_blocks: int = Field(16, ge=4)
    alpha: float = Field(0.05, gt=0, lt=1)


class ReportConfig(_Model):
    """The whole research run."""

    freq: str = "1h"
    signals: tuple[str, ...] = (
        "volume_surprise",
        "clean_momentum",
        "momentum_24h",
        "short_reversal",
        "low_vol",
    )
    signal_params: dict[str, dict[str, int]] = Field(default_factory=dict)
    horizons: tuple[int, ...] = (1, 4, 12, 24)
    min_assets: int = Field(10, ge=3)
    factor_window: int = Field(720, ge=24)
    factor_lag: int = Field(1, ge=1)
    splits: SplitConfig = SplitConfig()
    portfolio: PortfolioConfig = PortfolioConfig()
    costs: CostConfig = CostConfig()
    procedures: ProcedureConfig = ProcedureConfig()
    hypothesis: str | None = None
    tags: tuple[str, ...] = ()

    @field_validator("freq")
    @classmethod
    def _freq(cls, value: str) -> str:
        if value not in _FREQUENCIES:
            raise ValueError(f"freq {value!r} is not one of {', '.join(_FREQUENCIES)}")
        return value

    @field_validator("horizons")
    @classmethod
    def _horizons(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(h < 1 for h in value) or list(value) != sorted(set(value)):
            raise ValueError("horizons must be increasing positive bar counts, e.g. [1, 4, 12]")
        return value

    @field_validator("signals")
    @classmethod
    def _signals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError("signals must be a non-empty list of distinct registered names")
        return value

    @model_validator(mode="after")
    def _params_name_signals(self) -> ReportConfig:
        unknown = sorted(set(self.signal_params) - set(self.signals))
        if unknown:
            raise ValueError(f"signal_params names signals not in `signals`: {', '.join(unknown)}")
        return self

    @property
    def purge(self) -> int:
        return self.splits.purge if self.splits.purge is not None else max(self.horizons)

    def resolved(self) -> dict[str, Any]:
        """The canonical dict that ``run_key`` hashes: every default explicit; the hypothesis
        text and tags are run metadata, not result-affecting, so they are left out."""
        return self.model_dump(mode="json", exclude={"hypothesis", "tags"})


def load_report_config(
    path: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> ReportConfig:
    """Read a TOML file (optional), apply flag overrides (dotted keys allowed), validate."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"report config {path} does not exist", "check the path") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"report config {path} is not valid TOML: {exc}") from None
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        target = data
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    try:
        return ReportConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "config"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(
            f"report config: {where}: {message}", "fix the TOML file or the flag"
        ) from None
