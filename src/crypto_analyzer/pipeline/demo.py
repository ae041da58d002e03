"""The demo: the main job end to end on a fresh embedded SQLite workspace.

init → synthetic market with one planted signal, through the real ingest path → doctor → STRICT
dataset identity → research report (walk-forward, statistics, bundles, HTML) → one promotion
candidate per signal at the planted horizon → evaluate to ``candidate`` (researcher) → evaluate to
``accepted`` (a second principal, the reviewer) → audit trace of what was accepted → audit verify.
The planted signal is expected to be accepted and every noise signal to stop with reasons.

The workspace is a **sandbox** (``db.workspace_mode``): its two principals are declared names
(recorded as declared, not authenticated), and its governance records may use the pinned clock,
so the whole demo is deterministic under ``CRYPTO_ANALYZER_FIXED_TIME``. A governed workspace
would stamp them with the real clock instead.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crypto_analyzer.core.settings import Settings, load_settings
from crypto_analyzer.db.dataset_id import DatasetIdentity
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.governance import audit_trace, audit_verify, open_service
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import ReportResult, run_report
from crypto_analyzer.pipeline.workspace import DoctorReport, check_dataset, doctor, init_workspace

__all__ = ["DEMO_MARKET", "DEMO_REPORT", "DemoResult", "run_demo"]

DEMO_DB_NAME = "crypto_analyzer.sqlite"
RESEARCHER = "demo-researcher"
REVIEWER = "demo-reviewer"

DEMO_MARKET = SyntheticMarketConfig(assets=50, days=365, freq="1h", seed=7, planted_ic=0.06)
"""50 assets × 1 year of hourly bars; the planted signal is the one-bar volume shock."""

DEMO_REPORT: dict[str, Any] = {
    "signals": ["volume_shock", "momentum_24h", "short_reversal", "low_vol", "clean_momentum"],
    "horizons": [1, 4],
    "portfolio": {"k": 10, "target_capital": 10_000.0, "capital_grid": [5e3, 1e4, 5e4, 1e5]},
    # Maker-level costs and a small book: the synthetic coins are thin (hourly dollar volume from
    # about 2e5), so participation, not fees, is what limits capacity here.
    "costs": {"fee_bps": 2.0, "half_spread_bps": 1.0, "impact_coef": 0.01},
    "procedures": {"bootstrap_reps": 1000},
    "hypothesis": "one-bar volume shocks predict the next bar's cross-section of returns",
    "tags": ["demo"],
}


@dataclass(frozen=True)
class CandidateOutcome:
    """Where one signal's candidate ended and why."""

    candidate_id: str
    signal: str
    horizon: int
    status: str
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate_id": self.candidate_id,
            "horizon": self.horizon,
            "reasons": list(self.reasons),
            "signal": self.signal,
            "status": self.status,
        }


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced and where."""

    directory: Path
    settings: Settings
    ingest: dict[str, int | str]
    doctor: DoctorReport
    dataset: DatasetIdentity
    report: ReportResult | None
    candidates: tuple[CandidateOutcome, ...]
    trace: dict[str, Any] | None
    audit_ok: bool | None
    audit_findings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.doctor.ok and self.audit_ok is not False

    def to_dict(self) -> dict[str, object]:
        return {
            "audit_findings": list(self.audit_findings),
            "audit_ok": self.audit_ok,
            "candidates": [candidate.to_dict() for candidate in self.candidates],
            "dataset": self.dataset.to_dict(),
            "db_url": self.settings.db_url,
            "directory": str(self.directory),
            "doctor_ok": self.doctor.ok,
            "ingest": self.ingest,
            "report": None if self.report is None else self.report.to_dict(),
            "trace": self.trace,
            "workspace_mode": WorkspaceMode.SANDBOX.value,
        }


def run_demo(
    directory: Path | None = None,
    market: SyntheticMarketConfig | None = None,
    *,
    tenant: str | None = None,
    report: dict[str, Any] | None = None,
    with_report: bool = True,
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
    init_workspace(settings, WorkspaceMode.SANDBOX)
    with open_engine(settings, read_only=False) as engine:
        ingest = ingest_synthetic(engine, market or DEMO_MARKET, tenant_id=settings.tenant,
                                  actor=RESEARCHER)  # fmt: skip
    health = doctor(settings)
    if not with_report:
        return DemoResult(target.resolve(), settings, ingest, health, check_dataset(settings),
                          None, (), None, None, ())  # fmt: skip
    config = ReportConfig.model_validate(report or _demo_report((market or DEMO_MARKET).assets))
    result = run_report(settings, config, actor=RESEARCHER)
    # The report's STRICT id, computed in the same pass that loaded its bars, is the dataset
    # check: computing it again would read every bar a second time for the same digest.
    dataset = result.dataset
    outcomes = _promote(settings, result, config)
    accepted = [outcome for outcome in outcomes if outcome.status == "accepted"]
    trace = audit_trace(settings, accepted[0].candidate_id) if accepted else None
    verify = audit_verify(settings)
    findings = tuple(f"{finding.check}: {finding.message}" for finding in verify.findings)
    return DemoResult(target.resolve(), settings, ingest, health, dataset, result,
                      tuple(outcomes), trace, verify.ok, findings)  # fmt: skip


def _demo_report(assets: int) -> dict[str, Any]:
    """The demo config, with the book's names per side scaled to the number of assets."""
    portfolio = {**DEMO_REPORT["portfolio"], "k": max(1, min(10, assets // 5))}
    return {**DEMO_REPORT, "portfolio": portfolio}


def _promote(
    settings: Settings, result: ReportResult, config: ReportConfig
) -> list[CandidateOutcome]:
    horizon = config.horizons[0]
    outcomes = []
    with open_service(settings, read_only=False) as service:
        for signal in config.signals:
            candidate = service.create(run_instance_id=result.run_instance_id, signal=signal,
                                       horizon=horizon, actor=RESEARCHER)  # fmt: skip
            evaluation = service.evaluate(candidate.candidate_id, target="candidate",
                                          actor=RESEARCHER)  # fmt: skip
            if evaluation.passed:
                evaluation = service.evaluate(candidate.candidate_id, target="accepted",
                                              actor=REVIEWER)  # fmt: skip
            reasons = tuple(str(reason.message) for reason in evaluation.decision.reasons)
            outcomes.append(CandidateOutcome(candidate.candidate_id, signal, horizon,
                                             evaluation.candidate.status, reasons))  # fmt: skip
    return outcomes
