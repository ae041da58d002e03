"""Report configuration: every parameter that can change a result, in one validated model.

The resolved config (file + flags + defaults) is what ``run_key`` hashes, so nothing that changes
a number may live outside it; output locations are not part of it (they never change a result).
Every value that scales memory or time is bounded (:mod:`.limits`), the file is size- and
depth-checked before it is parsed (:mod:`crypto_analyzer.core.config_files`), and signal names and
parameters are checked against the registry — all before any dataset is read or run row written.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from crypto_analyzer.pipeline.report.limits import (
    MAX_BARS,
    MAX_BLOCK_LENGTH,
    MAX_BOOTSTRAP_REPS,
    MAX_CAPITAL,
    MAX_CAPITAL_GRID,
    MAX_CPCV_GROUPS,
    MAX_HORIZONS,
    MAX_HYPOTHESIS_CHARS,
    MAX_MIN_ASSETS,
    MAX_NAME_CHARS,
    MAX_NAMES_PER_SIDE,
    MAX_PBO_BLOCKS,
    MAX_SIGNALS,
    MAX_TAG_CHARS,
    MAX_TAGS,
)
from crypto_analyzer.research.signal_registry import SIGNALS, signal_names

__all__ = [
    "CalendarConfig",
    "CostConfig",
    "EvaluationConfig",
    "PortfolioConfig",
    "ProcedureConfig",
    "RegimeConfig",
    "ReportConfig",
    "SplitConfig",
    "UniverseConfig",
    "load_report_config",
]

_FREQUENCIES = ("5min", "15min", "1h", "1D")

Bars = Annotated[int, Field(ge=1, le=MAX_BARS)]
SignalName = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]
ParamValue = Annotated[int, Field(ge=0, le=MAX_BARS)]
Amount = Annotated[float, Field(gt=0, le=MAX_CAPITAL)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class SplitConfig(_Model):
    """Walk-forward (expanding or rolling) or combinatorial purged CV, with purge and embargo."""

    kind: Literal["walk_forward", "cpcv"] = "walk_forward"
    mode: Literal["expanding", "rolling"] = "expanding"
    test_size: int = Field(720, ge=1, le=MAX_BARS, description="bars per walk-forward test block")
    min_train_size: int = Field(
        2160, ge=1, le=MAX_BARS, description="bars before the first test block"
    )
    purge: int | None = Field(None, ge=0, le=MAX_BARS, description="default: the longest horizon")
    embargo: int = Field(24, ge=0, le=MAX_BARS)
    n_groups: int = Field(6, ge=2, le=MAX_CPCV_GROUPS, description="CPCV groups")
    n_test_groups: int = Field(2, ge=1, description="CPCV test groups per fold")

    @model_validator(mode="after")
    def _test_groups(self) -> SplitConfig:
        if self.n_test_groups >= self.n_groups:
            raise ValueError(
                f"n_test_groups ({self.n_test_groups}) must be < n_groups ({self.n_groups})"
            )
        return self


class CostConfig(_Model):
    """Costs per unit of traded notional (see research.portfolio.CostModel)."""

    fee_bps: float = Field(10.0, ge=0)
    half_spread_bps: float = Field(5.0, ge=0)
    impact_coef: float = Field(0.1, ge=0)
    impact_exponent: float = Field(0.5, ge=0, le=2)


class PortfolioConfig(_Model):
    """Long-short portfolio built from each signal's out-of-sample scores."""

    method: Literal["top_bottom_k", "signal"] = "top_bottom_k"
    k: int = Field(5, ge=1, le=MAX_NAMES_PER_SIDE, description="names per side for top_bottom_k")
    rebalance_every: int | None = Field(
        None,
        ge=1,
        le=MAX_BARS,
        description="bars between rebalances; default: the hypothesis's horizon",
    )
    ema_halflife: float | None = Field(None, gt=0, le=MAX_BARS)
    target_capital: float = Field(1_000_000.0, gt=0, le=MAX_CAPITAL)
    capital_grid: tuple[Amount, ...] = Field((1e5, 1e6, 1e7, 1e8), max_length=MAX_CAPITAL_GRID)
    max_participation: float = Field(0.1, gt=0, le=1)

    @field_validator("capital_grid")
    @classmethod
    def _grid(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(item <= 0 for item in value) or list(value) != sorted(set(value)):
            raise ValueError("capital_grid must be increasing positive amounts, e.g. [1e5, 1e6]")
        return value


class ProcedureConfig(_Model):
    """Statistical procedures over the family of hypotheses (signals × horizons)."""

    bootstrap_reps: int = Field(
        1000, ge=100, le=MAX_BOOTSTRAP_REPS, description="B for RC/SPA/Romano–Wolf"
    )
    bootstrap: Literal["stationary", "circular"] = "stationary"
    block_length: float | None = Field(
        None, gt=0, le=MAX_BLOCK_LENGTH, description="default: Politis–White"
    )
    pbo_blocks: int = Field(16, ge=4, le=MAX_PBO_BLOCKS, description="CSCV blocks, even")
    alpha: float = Field(0.05, gt=0, lt=1)
    studentize: bool = Field(True, description="SPA/Romano–Wolf divide by the long-run sd")
    stepm_recentring: Literal["upper", "consistent", "lower"] = Field(
        "upper", description="null recentring of the Romano–Wolf bootstrap statistics"
    )
    family_min_obs: int = Field(
        30, ge=3, le=MAX_BARS, description="common OOS IC rows the family tests need"
    )
    break_reps: int = Field(
        499, ge=99, le=MAX_BOOTSTRAP_REPS, description="bootstrap draws of the sup-F break test"
    )
    break_min_obs: int = Field(
        20, ge=10, le=MAX_BARS, description="OOS IC values a break test needs"
    )

    @field_validator("pbo_blocks")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError(f"pbo_blocks must be even (CSCV halves the blocks), got {value}")
        return value


class CalendarConfig(_Model):
    """Trading calendar and gap rule (see research.calendars); annualisation follows it."""

    kind: Literal["auto", "24/7", "weekdays", "file"] = Field(
        "auto", description="auto: weekdays when the data never trades on weekends, else 24/7"
    )
    file: str | None = Field(
        None, max_length=4096, description="trading days, one ISO date per line (kind = file)"
    )
    gap_rule: Literal["drop", "carry"] = "drop"
    max_gap: int = Field(
        3, ge=0, le=MAX_BARS, description="longer gaps are reported, never bridged"
    )
    bars_per_year: float | None = Field(
        None, gt=0, le=MAX_BARS, description="default: measured from the calendar's rows"
    )

    @model_validator(mode="after")
    def _file(self) -> CalendarConfig:
        if (self.kind == "file") != (self.file is not None):
            raise ValueError("calendar.file is required with kind = 'file' and only then")
        return self


class UniverseConfig(_Model):
    """Which assets enter the tests; chosen from data before the first test block only."""

    min_history_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="an asset needs bars on this share of the rows before the first test block",
    )
    min_median_dollar_volume: float = Field(0.0, ge=0, le=MAX_CAPITAL)


class EvaluationConfig(_Model):
    """How signals become out-of-sample IC series."""

    ic_method: Literal["rank", "pearson"] = "rank"
    winsor_quantile: float | None = Field(
        0.01, ge=0, le=0.49, description="signal z-score winsorisation; null = raw scores"
    )
    max_plausible_ic: float = Field(
        0.5, gt=0, le=1, description="mean |IC| above this is flagged lookahead_suspect"
    )


class RegimeConfig(_Model):
    """Regime-conditioned OOS IC: a Gaussian mixture fitted on each fold's train rows only."""

    enabled: bool = True
    n_states: int = Field(2, ge=2, le=8)
    feature_window: int = Field(24, ge=2, le=MAX_BARS, description="bars of the state features")
    max_iter: int = Field(200, ge=10, le=10_000, description="EM iterations per fold")


class ReportConfig(_Model):
    """The whole research run."""

    freq: str = "1h"
    signals: tuple[SignalName, ...] = Field(
        ("volume_surprise", "clean_momentum", "momentum_24h", "short_reversal", "low_vol"),
        max_length=MAX_SIGNALS,
    )
    signal_params: dict[str, dict[str, ParamValue]] = Field(
        default_factory=dict, max_length=MAX_SIGNALS
    )
    horizons: tuple[Bars, ...] = Field((1, 4, 12, 24), max_length=MAX_HORIZONS)
    min_assets: int = Field(10, ge=3, le=MAX_MIN_ASSETS)
    factor_window: int = Field(720, ge=24, le=MAX_BARS)
    factor_lag: int = Field(1, ge=1, le=MAX_BARS)
    splits: SplitConfig = SplitConfig()
    portfolio: PortfolioConfig = PortfolioConfig()
    costs: CostConfig = CostConfig()
    procedures: ProcedureConfig = ProcedureConfig()
    calendar: CalendarConfig = CalendarConfig()
    factors: tuple[Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)], ...] = Field(
        ("BTC", "ETH"),
        max_length=MAX_SIGNALS,
        description="factor instruments: base symbols (BTC) or instrument ids (kraken:BTC/USD)",
    )
    universe: UniverseConfig = UniverseConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    regimes: RegimeConfig = RegimeConfig()
    hypothesis: str | None = Field(None, max_length=MAX_HYPOTHESIS_CHARS)
    tags: tuple[Annotated[str, Field(max_length=MAX_TAG_CHARS)], ...] = Field(
        (), max_length=MAX_TAGS
    )

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
        unknown = [name for name in value if name not in SIGNALS]
        if unknown:
            raise ValueError(
                f"unknown signal(s) {', '.join(map(repr, unknown))}; "
                f"registered: {', '.join(signal_names())}"
            )
        return value

    @model_validator(mode="after")
    def _params_name_signals(self) -> ReportConfig:
        unknown = sorted(set(self.signal_params) - set(self.signals))
        if unknown:
            raise ValueError(
                f"signal_params names signals not in `signals`: {', '.join(map(repr, unknown))}"
            )
        for name, params in self.signal_params.items():
            declared = SIGNALS[name].defaults
            extra = sorted(set(params) - set(declared))
            if extra:
                raise ValueError(
                    f"signal_params.{name}: unknown parameter(s) {', '.join(map(repr, extra))}; "
                    f"declared: {', '.join(sorted(declared)) or 'none'}"
                )
        return self

    @property
    def purge(self) -> int:
        return self.splits.purge if self.splits.purge is not None else max(self.horizons)

    def signal_parameters(self, name: str) -> dict[str, int]:
        """Every parameter of signal ``name``: its function's defaults (their one home, read
        through the registry) overridden by ``signal_params``."""
        return {**SIGNALS[name].defaults, **self.signal_params.get(name, {})}

    def resolved(self) -> dict[str, Any]:
        """The canonical dict that ``run_key`` hashes: every default explicit.

        Signal parameters are filled in from the signal functions' defaults and the purge from the
        longest horizon, so a default changed in code changes the run key. The hypothesis text and
        tags are run metadata, not result-affecting, so they are left out.
        """
        out = self.model_dump(mode="json", exclude={"hypothesis", "tags"})
        out["signal_params"] = {name: self.signal_parameters(name) for name in self.signals}
        out["splits"]["purge"] = self.purge
        return out


def load_report_config(
    path: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> ReportConfig:
    """Read a TOML file (optional), apply flag overrides (dotted keys allowed), validate.

    The file is refused before parsing when it is larger than ``MAX_CONFIG_BYTES`` or nests
    deeper than ``MAX_CONFIG_DEPTH``; each invalid value is a :class:`ConfigError` naming the key,
    the value (shortened) and the rule it breaks.
    """
    data: dict[str, Any] = {}
    if path is not None:
        what = f"report config {path}"
        data = parse_toml(read_config_file(path, what=what), what=what)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        target = data
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise ConfigError(f"report config: {parent} must be a table to set {key}")
        target[leaf] = value
    check_nesting(data, what="report config")
    try:
        return ReportConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["loc"]:  # a key: name it and show its value (shortened)
            where = ".".join(str(part) for part in first["loc"])
            value = "" if first["type"] == "missing" else f" = {describe_value(first['input'])}"
            message = f"{where}{value}: {message}"
        raise ConfigError(f"report config: {message}", "fix the TOML file or the flag") from None
