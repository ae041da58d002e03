"""Orchestration: workspace lifecycle (init, doctor, dataset identity) and the demo."""

from __future__ import annotations

from crypto_analyzer.pipeline.workspace import (
    DoctorReport,
    check_dataset,
    doctor,
    init_workspace,
)

__all__ = ["DoctorReport", "check_dataset", "doctor", "init_workspace"]
