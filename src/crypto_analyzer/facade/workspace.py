"""A workspace for notebooks: the CLI's services behind one object, results as DataFrames.

Every method calls the function the matching CLI command calls (``init``, ``ingest synthetic``,
``ingest import``, ``report``, ``runs list``, ``promotion create|evaluate``, ``audit trace|verify``,
``reproduce``), so a notebook and the CLI produce the same records: the same data and config give
the same ``run_key``. Artifacts are read back through the store and checked against the SHA-256
the run recorded before they are parsed.
"""

from __future__ import annotations

import getpass
import io
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from crypto_analyzer.artifacts.run_layout import run_artifact_key
from crypto_analyzer.artifacts.store import ArtifactStore, open_settings_store
from crypto_analyzer.core.errors import NotFoundError
from crypto_analyzer.core.hashing import sha256_bytes
from crypto_analyzer.core.settings import Settings, load_settings
from crypto_analyzer.db.dataset_id import DatasetIdentity
from crypto_analyzer.db.registry import RunRecord, get_run, list_runs
from crypto_analyzer.db.schema import run_artifacts
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.governance import audit_trace, audit_verify, open_service
from crypto_analyzer.governance.audit import VerifyReport
from crypto_analyzer.governance.bundles import load_bundle
from crypto_analyzer.governance.evidence import ValidationBundle
from crypto_analyzer.governance.outcomes import Evaluation, check_actor
from crypto_analyzer.governance.records import CandidateRecord
from crypto_analyzer.ingest.importer import ImportResult
from crypto_analyzer.ingest.service import run_import, run_synthetic
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig
from crypto_analyzer.pipeline.report.config import ReportConfig, load_report_config
from crypto_analyzer.pipeline.report.run import ReportResult, run_report
from crypto_analyzer.pipeline.reproduce import Reproduction, reproduce
from crypto_analyzer.pipeline.workspace import check_dataset, init_workspace

__all__ = ["Workspace", "open_workspace"]


def open_workspace(
    url: str | None = None,
    *,
    artifacts: str | None = None,
    tenant: str | None = None,
    create: bool = False,
    sandbox: bool = False,
) -> Workspace:
    """A workspace from settings (environment / config file) or an explicit database URL.

    ``url`` may be a database URL or a directory (a SQLite file and a ``file://`` store inside
    it). ``create`` initialises it first (``crypto-analyzer init``; ``sandbox`` as ``--sandbox``).
    """
    if url is not None and "://" not in url:
        folder = Path(url).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'crypto_analyzer.sqlite'}"
        artifacts = artifacts or f"file://{folder / 'artifacts'}"
    settings = load_settings(db_url=url, artifacts=artifacts, tenant=tenant)
    if create:
        init_workspace(settings, WorkspaceMode.SANDBOX if sandbox else WorkspaceMode.GOVERNED)
    return Workspace(settings)


def _actor(actor: str | None) -> str:
    return check_actor(actor or getpass.getuser())


@dataclass(frozen=True)
class Workspace:
    """One database + artifact store + tenant, as the CLI's global options would select."""

    settings: Settings

    # -- data -----------------------------------------------------------------------------

    def ingest_synthetic(
        self, config: SyntheticMarketConfig | None = None, **fields: Any
    ) -> dict[str, Any]:
        """``ingest synthetic``: the seeded market (fields of :class:`SyntheticMarketConfig`)."""
        return run_synthetic(self.settings, config or SyntheticMarketConfig(**fields))

    def import_file(
        self, path: str | Path, *, venue: str, symbol: str, freq: str, **options: Any
    ) -> ImportResult:
        """``ingest import``: one CSV/Parquet OHLCV file (``mapping``, ``time_unit`` as the CLI)."""
        return run_import(
            self.settings, Path(path), venue=venue, symbol=symbol, freq=freq, **options
        )

    def import_frame(
        self, frame: pd.DataFrame, *, venue: str, symbol: str, freq: str, **options: Any
    ) -> ImportResult:
        """Import a DataFrame of OHLCV bars through the same path as a file (one ingest run)."""
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
        with tempfile.TemporaryDirectory(prefix="crypto-analyzer-frame-") as folder:
            path = Path(folder) / "dataframe.parquet"
            frame.to_parquet(path, index=False)
            return self.import_file(path, venue=venue, symbol=symbol, freq=freq, **options)

    def dataset(self) -> DatasetIdentity:
        """``check-dataset``: the STRICT dataset id of the current data."""
        return check_dataset(self.settings)

    # -- research runs ----------------------------------------------------------------------

    def run_report(
        self, config: ReportConfig | Mapping[str, Any] | None = None, *, actor: str | None = None
    ) -> ReportResult:
        """``report``: from a :class:`ReportConfig` or a dict shaped like the TOML file."""
        if not isinstance(config, ReportConfig):
            config = load_report_config(None, dict(config or {}))
        return run_report(self.settings, config, actor=_actor(actor))

    def runs(self, limit: int = 50) -> pd.DataFrame:
        """``runs list``: newest first, one row per run, indexed by run instance id."""
        rows = [run.to_dict() for run in self._runs(limit)]
        frame = pd.DataFrame(rows, columns=list(RunRecord.__dataclass_fields__))
        return frame.drop(columns=["metrics", "config"], errors="ignore").set_index(
            "run_instance_id"
        )

    def run(self, run_id: str) -> RunRecord:
        """One run (id or unique prefix) with its config and metrics."""
        with open_engine(self.settings, read_only=True) as engine:
            return get_run(engine, self.settings.tenant, run_id)

    def artifact(self, run_id: str, name: str) -> bytes:
        """The bytes of artifact ``name`` of a run, checked against the recorded SHA-256."""
        run = self.run(run_id)
        with open_engine(self.settings, read_only=True) as engine, engine.connect() as connection:
            recorded = connection.execute(
                sa.select(run_artifacts.c.artifact_sha256).where(
                    run_artifacts.c.tenant_id == self.settings.tenant,
                    run_artifacts.c.run_instance_id == run.run_instance_id,
                    run_artifacts.c.name == name,
                )
            ).scalar_one_or_none()
        if recorded is None:
            raise NotFoundError(
                f"run {run.run_instance_id} recorded no artifact {name!r}",
                "see the run's manifest.json for its artifact names",
            )
        data = self._store().get(run_artifact_key(run.run_instance_id, name))
        if sha256_bytes(data) != recorded:
            raise NotFoundError(
                f"artifact {name!r} of run {run.run_instance_id} no longer has its recorded "
                "SHA-256",
                "run `crypto-analyzer audit verify`",
            )
        return data

    def ic_series(self, run_id: str) -> pd.DataFrame:
        """Out-of-sample IC per bar (rows) and hypothesis ``signal@horizon`` (columns)."""
        return pd.read_csv(io.BytesIO(self.artifact(run_id, "ic/oos_ic.csv")), index_col=0)

    def portfolio_returns(self, run_id: str) -> pd.DataFrame:
        """Net portfolio returns per bar (rows) and hypothesis (columns)."""
        data = self.artifact(run_id, "portfolio/net_returns.csv")
        return pd.read_csv(io.BytesIO(data), index_col=0)

    def hypotheses(self, run_id: str) -> pd.DataFrame:
        """The hypothesis table of the report, indexed by (signal, horizon)."""
        overview = json.loads(self.artifact(run_id, "stats/overview.json"))
        return pd.DataFrame(overview["hypotheses"]).set_index(["signal", "horizon"]).sort_index()

    def bundle(self, run_id: str, signal: str) -> ValidationBundle:
        """The validation bundle of ``signal`` (verified against its lineage row)."""
        run = self.run(run_id)
        with open_engine(self.settings, read_only=True) as engine, engine.connect() as connection:
            loaded = load_bundle(
                connection, self._store(), self.settings.tenant, run.run_instance_id, signal
            )
        return loaded.bundle

    def bundles(self, run_id: str) -> pd.DataFrame:
        """One row per signal of the run: its bundle's identities and evidence, by signal."""
        run = self.run(run_id)
        rows = []
        for signal in run.config.get("signals", []):
            document = self.bundle(run.run_instance_id, signal).to_canonical_dict()
            rows.append({key: value for key, value in document.items() if key != "artifacts"})
        return pd.DataFrame(rows).set_index("signal")

    # -- governance ---------------------------------------------------------------------------

    def create_candidate(
        self, run_id: str, signal: str, horizon: int, *, actor: str | None = None
    ) -> CandidateRecord:
        """``promotion create``."""
        with open_service(self.settings, read_only=False) as service:
            return service.create(
                run_instance_id=run_id, signal=signal, horizon=horizon, actor=_actor(actor)
            )

    def evaluate(
        self,
        candidate_id: str,
        *,
        target: str = "candidate",
        actor: str | None = None,
        policy: str | Path | None = None,
    ) -> Evaluation:
        """``promotion evaluate``: judge at ``target`` and record the outcome."""
        with open_service(self.settings, read_only=False, policy_path=policy) as service:
            return service.evaluate(candidate_id, target=target, actor=_actor(actor))

    def candidates(self, status: str | None = None) -> pd.DataFrame:
        """``promotion list``: newest first, indexed by candidate id."""
        with open_service(self.settings, read_only=True) as service:
            rows = [candidate.to_dict() for candidate in service.list_candidates(status=status)]
        return pd.DataFrame(rows).set_index("candidate_id") if rows else pd.DataFrame()

    def trace(self, candidate_id: str) -> dict[str, Any]:
        """``audit trace``: candidate → reports → events → run → dataset → artifacts."""
        return audit_trace(self.settings, candidate_id)

    def verify(self) -> VerifyReport:
        """``audit verify``: chains, triggers, artifacts, re-derived decisions."""
        return audit_verify(self.settings)

    def reproduce(
        self, target: str, *, actor: str | None = None, allow_engine_change: bool = False
    ) -> Reproduction:
        """``reproduce``: re-execute a candidate's or run's report and compare every artifact."""
        return reproduce(
            self.settings, target, actor=_actor(actor), allow_engine_change=allow_engine_change
        )

    # -- helpers ------------------------------------------------------------------------------

    def _runs(self, limit: int) -> list[RunRecord]:
        with open_engine(self.settings, read_only=True) as engine:
            return list_runs(engine, self.settings.tenant, limit)

    def _store(self) -> ArtifactStore:
        return open_settings_store(self.settings)
