"""Report configuration: every parameter that can change a result, in one validated model.

The resolved config (file + flags + defaults) is what ``run_key`` hashes, so nothing that changes
a number may live outside it; output locations are not part of it (they never change a result).
Every value that scales memory or time is bounded (:mod:`.limits`), the file is size- and
depth-checked before it is parsed (:mod:`crypto_analyzer.core.config_files`), and signal names and
parameters are checked against the registry — all before any dataset is read or run row written.

Signal plugins (:mod:`crypto_analyzer.plugins.signal_discovery`) join the registry here: the files
named in ``signal_plugin_files`` (relative to the config file's folder) and the entry points the
``signals`` list names are loaded while the config is validated, their parameters are checked by
their own models, and :meth:`ReportConfig.resolved` records each used plugin's origin and code
digest under ``signal_plugins`` — so a changed plugin changes the run key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from crypto_analyzer.core.config_files import (
    check_nesting,
    describe_value,
    parse_toml,
    read_config_file,
)
from crypto_analyzer.core.errors import ConfigError, PluginError
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
    MAX_PROCEDURES,
    MAX_SIGNALS,
    MAX_TAG_CHARS,
    MAX_TAGS,
)
from crypto_analyzer.plugins.signal_discovery import (
    SignalCatalog,
    build_catalog,
    describe_plugins,
)
from crypto_analyzer.plugins.signals import SignalPluginError
from crypto_analyzer.research.signal_registry import SIGNALS, SignalSpec
from crypto_analyzer.stats.procedures import default_registry

__all__ = [
    "REPORT_PROCEDURES",
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
ParamValue = int | float | bool | Annotated[str, Field(max_length=MAX_NAME_CHARS)]
"""A signal parameter: built-ins take bar counts (ints, checked below); a plugin's own model
checks its parameters."""
PluginFile = Annotated[str, Field(min_length=1, max_length=1024)]
PinValue = Annotated[str, Field(max_length=1024)] | None
Amount = Annotated[float, Field(gt=0, le=MAX_CAPITAL)]

REPORT_PROCEDURES = (
    "bh",
    "by",
    "cusum",
    "dsr",
    "family_tests",
    "hac",
    "pbo_cscv",
    "psr",
    "sup_f",
)
"""Registry procedures every report runs; their evidence has typed fields in the bundle."""


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
    extra: dict[SignalName, dict[str, Any]] = Field(
        default_factory=dict,
        max_length=MAX_PROCEDURES,
        description="more registered procedures by name -> their parameters; each result is "
        "carried in the bundle under `procedures.<name>` and can be judged by a policy rule",
    )

    @field_validator("extra")
    @classmethod
    def _registered(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        registry = default_registry()  # a broken plugin raises PluginError here, unwrapped
        for name, params in value.items():
            try:
                registry.params(name, params)
            except PluginError:
                raise
            except ConfigError as exc:
                raise ValueError(exc.problem) from None
        return value

    def resolved_extra(self) -> dict[str, dict[str, Any]]:
        """Each selected procedure's parameters with every default filled in."""
        registry = default_registry()
        return {
            name: registry.params(name, params).model_dump(mode="json")
            for name, params in sorted(self.extra.items())
        }

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
    signal_plugin_files: tuple[PluginFile, ...] = Field(
        (),
        max_length=MAX_SIGNALS,
        description="Python files defining signal plugins, relative to the config file's folder",
    )
    signal_plugins: dict[str, dict[str, PinValue]] | None = Field(
        None,
        max_length=MAX_SIGNALS,
        description="resolved: origin and code digest of each plugin used; given, a pin checked "
        "against the plugins loaded",
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
    stat_procedures: tuple[dict[str, Any], ...] | None = Field(
        None,
        max_length=len(REPORT_PROCEDURES) + MAX_PROCEDURES,
        description="the procedure manifest of a resolved config; derived from the installed "
        "code, so on input it must match it (a config resolved with other procedure code is "
        "refused rather than silently given another meaning)",
    )
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

    _catalog: SignalCatalog | None = PrivateAttr(None)

    @field_validator("signals")
    @classmethod
    def _signals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError("signals must be a non-empty list of distinct registered names")
        return value

    @model_validator(mode="after")
    def _params_name_signals(self, info: ValidationInfo) -> ReportConfig:
        base = (info.context or {}).get("config_dir") or Path.cwd()
        files = [(text, _plugin_path(text, Path(base))) for text in self.signal_plugin_files]
        try:  # unknown names, clashes and broken plugins: one clear error naming the plugin
            catalog = build_catalog(self.signals, files)
        except SignalPluginError as exc:
            raise ValueError(str(exc)) from None
        self._catalog = catalog
        unknown = sorted(set(self.signal_params) - set(self.signals))
        if unknown:
            raise ValueError(
                f"signal_params names signals not in `signals`: {', '.join(map(repr, unknown))}"
            )
        for name, params in self.signal_params.items():
            _check_params(name, params, catalog.registry[name])
        if self.signal_plugins is not None:
            _check_pins(self.signal_plugins, self._used_plugins())
        return self

    @model_validator(mode="after")
    def _manifest_matches_the_code(self) -> ReportConfig:
        if self.stat_procedures is None:
            return self
        expected = {entry["name"]: entry for entry in self._manifest()}
        given = {str(entry.get("name")): entry for entry in self.stat_procedures}
        differ = sorted(
            name for name in set(expected) | set(given) if expected.get(name) != given.get(name)
        )
        if differ:
            raise ValueError(
                "the config was resolved with other statistical procedure code than is installed "
                f"(differs: {', '.join(differ)}); drop `stat_procedures` to use the installed "
                "code, which gives another run key"
            )
        return self

    def _manifest(self) -> list[dict[str, Any]]:
        return default_registry().manifest((*REPORT_PROCEDURES, *self.procedures.extra))

    @property
    def purge(self) -> int:
        return self.splits.purge if self.splits.purge is not None else max(self.horizons)

    @property
    def signal_registry(self) -> Mapping[str, SignalSpec]:
        """The built-in signals plus the plugins this config loaded."""
        return SIGNALS if self._catalog is None else self._catalog.registry

    def signal_spec(self, name: str) -> SignalSpec:
        """The registry entry of signal ``name`` (built-in or plugin)."""
        return self.signal_registry[name]

    def used_plugins(self) -> dict[str, dict[str, Any]]:
        """Origin and code digest of each plugin signal in ``signals``, by name."""
        return self._used_plugins()

    def _used_plugins(self) -> dict[str, dict[str, Any]]:
        if self._catalog is None:
            return {}
        plugins = self._catalog.plugins
        return describe_plugins({name: plugins[name] for name in self.signals if name in plugins})

    def signal_parameters(self, name: str) -> dict[str, Any]:
        """Every parameter of signal ``name``: its defaults (the function signature of a built-in,
        the parameter model of a plugin: their one home) overridden by ``signal_params``."""
        spec = self.signal_spec(name)
        merged = {**spec.defaults, **self.signal_params.get(name, {})}
        return merged if spec.validate is None else spec.validate(merged)

    def resolved(self) -> dict[str, Any]:
        """The canonical dict that ``run_key`` hashes: every default explicit.

        Signal parameters are filled in from the signal functions' defaults and the purge from the
        longest horizon, so a default changed in code changes the run key; each signal plugin used
        is recorded with its code digest (``signal_plugins``), and so is the code of every
        statistical procedure the report runs (``stat_procedures``: the registry's manifest,
        with the digest of its source), so changed plugin or procedure code does too.
        The hypothesis text and tags are run metadata, not result-affecting, so they are left out.
        """
        out = self.model_dump(mode="json", exclude={"hypothesis", "tags"})
        out["signal_params"] = {name: self.signal_parameters(name) for name in self.signals}
        out["signal_plugins"] = self._used_plugins()
        out["splits"]["purge"] = self.purge
        out["procedures"]["extra"] = self.procedures.resolved_extra()
        # Which code computes the statistics is part of the identity: the manifest names each
        # procedure's version, distribution and a digest of its source.
        out["stat_procedures"] = self._manifest()
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
    config_dir = Path.cwd() if path is None else Path(path).resolve().parent
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
        return ReportConfig.model_validate(data, context={"config_dir": config_dir})
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["loc"]:  # a key: name it and show its value (shortened)
            where = ".".join(str(part) for part in first["loc"])
            value = "" if first["type"] == "missing" else f" = {describe_value(first['input'])}"
            message = f"{where}{value}: {message}"
        raise ConfigError(f"report config: {message}", "fix the TOML file or the flag") from None


def _plugin_path(text: str, base: Path) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


def _check_params(name: str, params: Mapping[str, Any], spec: SignalSpec) -> None:
    """Names against the signal's declared parameters; values by its model (a plugin) or as bar
    counts (a built-in)."""
    extra = sorted(set(params) - set(spec.defaults))
    if extra:
        raise ValueError(
            f"signal_params.{name}: unknown parameter(s) {', '.join(map(repr, extra))}; "
            f"declared: {', '.join(sorted(spec.defaults)) or 'none'}"
        )
    if spec.validate is not None:
        try:
            spec.validate({**spec.defaults, **params})
        except SignalPluginError as exc:
            raise ValueError(f"signal_params.{name}: {exc}") from None
        return
    for key, value in params.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_BARS:
            raise ValueError(
                f"signal_params.{name}.{key} = {describe_value(value)}: parameters of built-in "
                f"signals are bar counts, ints from 0 to {MAX_BARS}"
            )


def _check_pins(pins: Mapping[str, Mapping[str, Any]], used: Mapping[str, Any]) -> None:
    """A config that states ``signal_plugins`` (a stored resolved config) must get exactly those
    plugins back: same names, same code digests, same origins."""
    if set(pins) != set(used):
        raise ValueError(
            f"signal_plugins pins {sorted(pins)} but the signals use plugins {sorted(used)}"
        )
    for name, pin in pins.items():
        for field_name, now_value in used[name].items():
            if pin.get(field_name) != now_value:
                raise ValueError(
                    f"signal_plugins.{name}.{field_name} is pinned to "
                    f"{describe_value(pin.get(field_name))} but the loaded plugin has "
                    f"{describe_value(now_value)} (the plugin changed since this config was "
                    "resolved; remove signal_plugins to run the new code under a new run key)"
                )
