"""The demo: the main job end to end on a fresh embedded SQLite workspace.

It runs what exists of the pipeline, in order, through the same services the CLI exposes:
init → synthetic market through the ingest path → doctor → STRICT dataset identity. Later stages
(report, candidates, promotion, audit) join here as they land.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from crypto_analyzer.core.settings import Settings, load_settings
from crypto_analyzer.db.dataset_id import DatasetIdentity
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.workspace import DoctorReport, check_dataset, doctor, init_workspace

__all__ = ["DemoResult", "run_demo"]

DEMO_DB_NAME = "crypto_analyzer.sqlite"


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo produced and where."""

    directory: Path
    settings: Settings
    ingest: dict[str, int | str]
    doctor: DoctorReport
    dataset: DatasetIdentity

    def to_dict(self) -> dict[str, object]:
        return {
            "dataset": self.dataset.to_dict(),
            "db_url": self.settings.db_url,
            "directory": str(self.directory),
            "doctor_ok": self.doctor.ok,
            "ingest": self.ingest,
        }


def run_demo(
    directory: Path | None = None,
    market: SyntheticMarketConfig | None = None,
    *,
    tenant: str | None = None,
) -> DemoResult:
    """Run the demo in ``directory`` (a new temporary directory when None)."""
    target = (
        Path(directory) if directory else Path(tempfile.mkdtemp(prefix="crypto-analyzer-demo-"))
    )
    target.mkdir(parents=True, exist_ok=True)
    settings = load_settings(
        db_url=f"sqlite:///{(target / DEMO_DB_NAME).resolve()}",
        artifacts=f"file://{(target / 'artifacts').resolve()}",
        tenant=tenant,
    )
    init_workspace(settings)
    with open_engine(settings, read_only=False) as engine:
        ingest = ingest_synthetic(
            engine, market or SyntheticMarketConfig(), tenant_id=settings.tenant, actor="demo"
        )
    report = doctor(settings)
    dataset = check_dataset(settings)
    return DemoResult(target.resolve(), settings, ingest, report, dataset)
