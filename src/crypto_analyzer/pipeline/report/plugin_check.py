"""Signal plugins at report time: the causality check before the run starts, and their record.

A plugin's causality contract (the value at bar ``t`` uses data up to ``t`` only) is checked with
the same functions the built-in signals are tested with
(:func:`~crypto_analyzer.research.causality_check.check_causality`), on a sample of the run's own
bars, with the run's own parameters and normalisation. It runs after the data is read and before
the run row exists: a plugin that peeks at the future is a user error (``ValidationError``, exit 2)
naming the check it failed, and leaves no run, trial or artifact behind.

A run that uses plugins stores ``signal_plugins.json`` (each plugin's origin, code digest and the
findings of its checks) with the plugins' origins in its lineage row, and every plugin signal's
bundle is linked to it (``derived_from``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.writer import RunArtifacts
from crypto_analyzer.research import Panel, compute_signal, panel_from_bars
from crypto_analyzer.research.bar_columns import BarColumns
from crypto_analyzer.research.causality_check import check_causality

__all__ = [
    "MAX_SAMPLE_BARS",
    "PLUGIN_RECORD_NAME",
    "SAMPLE_BARS",
    "check_signal_plugins",
    "write_plugin_record",
]

PLUGIN_RECORD_NAME = "signal_plugins.json"
SAMPLE_BARS = 720
"""Bars of the sample a plugin is checked on (more when its lookback needs them)."""
MAX_SAMPLE_BARS = 5000
_MIN_BARS = 8
_HINT = (
    "a signal's value at bar t may use data up to t only; fix the plugin "
    "(see docs/plugins-signals.md) or remove it from `signals`"
)


def _sample(panel: Panel, lookback: int) -> Panel:
    """The first bars of the panel: enough for the lookback three times over, so the prefixes the
    check cuts at half and three quarters of the sample hold real values."""
    rows = min(panel.shape[0], max(SAMPLE_BARS, 3 * lookback), MAX_SAMPLE_BARS)
    return panel.head_rows(rows)


def check_signal_plugins(bars: pd.DataFrame | BarColumns, config: ReportConfig) -> dict[str, Any]:
    """Check every plugin signal ``config`` uses; the record to store, ``{}`` without plugins.

    ``bars``: the run's bars (a long frame or :class:`BarColumns`); they are only read.

    Raises
    ------
    ValidationError
        A plugin failed a check; the message names the plugin, where it came from, the check
        (``prefix_recompute`` or ``future_shock``) and the first bar and asset that differed.
    """
    used = config.used_plugins()
    if not used:
        return {}
    if len(bars) == 0:
        raise ValidationError(
            f"no {config.freq} bars to check the signal plugins on",
            "ingest and materialize data first",
        )
    panel = panel_from_bars(bars)
    if panel.shape[0] < _MIN_BARS:
        raise ValidationError(
            f"{panel.shape[0]} {config.freq} bars are too few to check the signal plugins "
            f"(at least {_MIN_BARS})",
            "ingest more data",
        )
    record: dict[str, Any] = {}
    for name, origin in used.items():
        params = config.signal_parameters(name)
        sample = _sample(panel, config.signal_spec(name).lookback(params))

        def compute(part: Panel, name: str = name, params: dict[str, Any] = params) -> pd.DataFrame:
            return compute_signal(
                name,
                part,
                winsor_quantile=config.evaluation.winsor_quantile,
                registry=config.signal_registry,
                **params,
            )

        findings = check_causality(compute, sample)
        for finding in findings:
            if not finding.passed:
                raise ValidationError(
                    f"signal plugin {name!r} ({origin['locator']}) failed the causality check "
                    f"{finding.check!r} on {sample.shape[0]} bars: {finding.detail}",
                    _HINT,
                )
        record[name] = {
            **origin,
            "causality": [finding.to_dict() for finding in findings],
            "sample_bars": sample.shape[0],
        }
    return record


def write_plugin_record(
    written: RunArtifacts,
    record: dict[str, Any],
    origins: dict[str, Any],
    edges: tuple[tuple[str, str], ...],
) -> None:
    """Store the plugins' record (when the run used any) with their origins (the resolved
    config's ``signal_plugins``) in its lineage row."""
    if not record:
        return
    written.put_json(
        PLUGIN_RECORD_NAME,
        {"plugins": record, "schema_version": 1},
        artifact_type="signal_plugins",
        schema_version="1",
        edges=edges,
        plugin_manifest={"signal_plugins": origins},
    )
