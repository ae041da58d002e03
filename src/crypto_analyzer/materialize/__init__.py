"""Materialization: derived market tables (research-grid bars) built from stored observations."""

from __future__ import annotations

from crypto_analyzer.materialize.bars import (
    NATIVE_SOURCES,
    MaterializeResult,
    compute_bars,
    materialize_bars,
)

__all__ = ["NATIVE_SOURCES", "MaterializeResult", "compute_bars", "materialize_bars"]
