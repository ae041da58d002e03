"""Data vs config before and during a report: calendar panel, factor instruments, clear refusals.

The statistics at the end of a report cannot tell *why* their input is degenerate (a constant
return column is all they see), so the common mismatches between a config and a dataset are
caught here, where the cause is known, each with its own one-line message and fix: history
shorter than the split plan, too few assets for the portfolio's k names per side or for
``min_assets``, a signal that is all-NaN on this data (and why), factor instruments the
universe lacks (factor signals are skipped with a note; the others still run).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.core.errors import ConfigError, ValidationError
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.research import Panel
from crypto_analyzer.research.bar_columns import BarColumns
from crypto_analyzer.research.calendars import (
    CalendarReport,
    CalendarSpec,
    calendar_panel,
    read_calendar_file,
)

__all__ = [
    "FactorChoice",
    "PanelOnCalendar",
    "build_panel",
    "check_history",
    "check_signals",
    "check_universe",
    "choose_factors",
    "effective_signals",
]

_MISSING_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class PanelOnCalendar:
    """A panel already built from the bars (:func:`build_panel`'s result).

    The bars are the largest input of a report (one row per instrument and bar) and nothing
    after the panel needs them: a caller that builds the panel itself releases them while the
    panel is built instead of holding both for the whole run."""

    panel: Panel
    calendar: CalendarReport

    @classmethod
    def build(
        cls, bars: pd.DataFrame | BarColumns, config: ReportConfig, *, release: bool = False
    ) -> PanelOnCalendar:
        return cls(*build_panel(bars, config, release=release))


def build_panel(
    bars: pd.DataFrame | BarColumns, config: ReportConfig, *, release: bool = False
) -> tuple[Panel, CalendarReport]:
    """The panel on the configured calendar (``auto``: detected), gap rule applied; ``release``:
    forget each block of ``bars`` (a :class:`BarColumns`) once it is in the panel's grids."""
    settings = config.calendar
    sessions = None
    if settings.kind == "file":
        path = Path(str(settings.file))
        try:
            sessions = read_calendar_file(path)
        except OSError as exc:
            raise ConfigError(
                f"calendar.file {path}: {exc.strerror or exc}", "point it at a readable file"
            ) from exc
        except ValueError as exc:
            raise ConfigError(str(exc), "one trading day per line, e.g. 2024-01-02") from exc
    spec = CalendarSpec(
        kind=settings.kind,
        gap_rule=settings.gap_rule,
        max_gap=settings.max_gap,
        sessions=sessions,
        source=Path(settings.file).name if settings.file else None,
        bars_per_year=settings.bars_per_year,
    )
    return calendar_panel(bars, spec, release=release)


def check_history(n_rows: int, config: ReportConfig) -> None:
    """Refuse a walk-forward plan that cannot fit one fold in the history."""
    splits = config.splits
    if splits.kind != "walk_forward":
        need = splits.n_groups * (config.purge + splits.embargo + 1)
        fix = "lower splits.n_groups, the horizons or splits.embargo"
    else:
        need = splits.min_train_size + config.purge + splits.test_size
        fix = "lower --min-train-size/--test-size (splits.min_train_size/test_size)"
    if n_rows < need:
        raise ValidationError(
            f"history shorter than the split plan: {n_rows:,} bars of {config.freq}, the plan "
            f"needs at least {need:,} ({_plan_text(config)})",
            f"{fix}, or ingest more history",
        )


def check_universe(panel: Panel, config: ReportConfig) -> None:
    """Refuse universes too small for ``min_assets`` or for k names per side."""
    n = panel.shape[1]
    if n < config.min_assets:
        raise ValidationError(
            f"too few assets: {n} in the universe (bars before the first test block), "
            f"min_assets is {config.min_assets}",
            "lower min_assets or ingest more instruments",
        )
    portfolio = config.portfolio
    if portfolio.method == "top_bottom_k" and n < 2 * portfolio.k:
        raise ValidationError(
            f"too few assets for k quantiles: {n} in the universe, portfolio.k = {portfolio.k} "
            f"names per side needs at least {2 * portfolio.k}",
            f"set portfolio.k to at most {n // 2} or ingest more instruments",
        )


class FactorChoice:
    """The factor instruments found, the signals that can run, and notes for the report."""

    def __init__(self, ids: list[Any], signals: tuple[str, ...], notes: list[str]) -> None:
        self.ids = ids
        self.signals = signals
        self.notes = notes


def choose_factors(
    assets: pd.Index, instruments: pd.DataFrame, config: ReportConfig
) -> FactorChoice:
    """Resolve ``config.factors`` (bases or instrument ids) among ``assets``.

    Factor-based signals run when at least one factor instrument is present; otherwise they are
    skipped with a note naming the missing instruments and the setting. A run whose every signal
    needs factors is refused with the same message.
    """
    bases: Mapping[Any, Any] = dict(
        zip(instruments["instrument_id"], instruments["base"], strict=True)
    )
    ids: list[Any] = []
    missing: list[str] = []
    for name in config.factors:
        found = [asset for asset in assets if asset == name or bases.get(asset) == name]
        if found:
            ids.extend(asset for asset in found if asset not in ids)
        else:
            missing.append(name)
    needs = [name for name in config.signals if config.signal_spec(name).needs_factor_fit]
    notes: list[str] = []
    if not needs:
        return FactorChoice(ids, tuple(config.signals), notes)
    setting = f"factors = {list(config.factors)}"
    if not ids:
        why = (
            "no factor instruments are configured"
            if not config.factors
            else f"the universe lacks factor instrument(s) {', '.join(missing)}"
        )
        message = (
            f"factor-based signal(s) {', '.join(needs)} skipped: {why} (report config "
            f"setting `{setting}`)"
        )
        active = tuple(name for name in config.signals if name not in needs)
        if not active:
            raise ValidationError(
                message.replace("skipped", "cannot run"),
                'name instruments the data has in `factors` (e.g. factors = ["SPX"]), '
                "or choose signals that need no factors",
            )
        return FactorChoice([], active, [message])
    if missing:
        notes.append(
            f"factor instrument(s) {', '.join(missing)} not in the universe; the factor model "
            f"uses {', '.join(map(str, ids))} (setting `{setting}`)"
        )
    return FactorChoice(ids, tuple(config.signals), notes)


def check_signals(
    signals: Mapping[str, pd.DataFrame], panel: Panel, in_test: np.ndarray, config: ReportConfig
) -> None:
    """Refuse a signal with no value on any test bar, saying why it is empty."""
    for name, frame in signals.items():
        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)[in_test]
        if values.size and np.isfinite(values).any():
            continue
        raise ValidationError(
            f"signal {name} is all-NaN on this data ({_why_empty(name, panel, config)})",
            f"drop {name} from signals or fix the cause",
        )


def _why_empty(name: str, panel: Panel, config: ReportConfig) -> str:
    spec = config.signal_spec(name)
    params = config.signal_parameters(name)
    window = max((int(v) for v in params.values()), default=0)
    rows = panel.shape[0]
    if window >= rows:
        return f"its window of {window} bars is longer than the {rows:,} bars of history"
    if spec.needs_factor_fit and config.factor_window >= rows:
        return f"factor_window = {config.factor_window} exceeds the {rows:,} bars of history"
    if spec.needs_factor_fit:
        return (
            f"the rolling factor fit needs {config.factor_window} consecutive bars with a return "
            "for every factor instrument, and missing bars leave no such window; set "
            "calendar.gap_rule = 'carry' or a shorter factor_window"
        )
    returns = panel.log_returns.to_numpy(dtype=np.float64, na_value=np.nan)[1:]
    missing = float(np.isnan(returns).mean()) if returns.size else 1.0
    if missing > _MISSING_SHARE:
        return (
            f"{missing:.0%} of bar returns are missing (gaps or empty calendar slots, calendar "
            f"{panel.calendar}); set calendar.kind = 'weekdays' or a calendar file, or "
            "calendar.gap_rule = 'carry'"
        )
    return f"no test bar has {window} bars of data before it"


def _plan_text(config: ReportConfig) -> str:
    splits = config.splits
    if splits.kind != "walk_forward":
        return (
            f"cpcv n_groups {splits.n_groups} with purge {config.purge} and embargo "
            f"{splits.embargo}"
        )
    return (
        f"min_train_size {splits.min_train_size} + purge {config.purge} + "
        f"test_size {splits.test_size}"
    )


def effective_signals(config: ReportConfig, signals: Sequence[str]) -> ReportConfig:
    """The config with skipped signals left out (for the family, trials and bundles only; the
    run key and config artifact keep the configured list)."""
    if tuple(signals) == tuple(config.signals):
        return config
    return config.model_copy(update={"signals": tuple(signals)})
