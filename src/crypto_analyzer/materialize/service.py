"""Materialize services for the interfaces (open the workspace, run, close)."""

from __future__ import annotations

from crypto_analyzer.core.progress import ProgressSink
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.materialize.bars import MaterializeResult, materialize_bars

__all__ = ["run_materialize_bars"]


def run_materialize_bars(
    settings: Settings, freq: str, *, full: bool = False, progress: ProgressSink | None = None
) -> MaterializeResult:
    """``materialize bars``: incremental unless ``full``."""
    with open_engine(settings, read_only=False) as engine:
        return materialize_bars(
            engine, freq, tenant_id=settings.tenant, full=full, progress=progress
        )
