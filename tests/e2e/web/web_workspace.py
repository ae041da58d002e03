"""A governed workspace shaped like the demo, for the dashboard's browser tests and benchmark.

The demo itself is a sandbox with declared names; the dashboard needs what a team has: a governed
tenant with registered principals (an admin, a researcher, a reviewer) and their ``ca_…`` tokens.
The market is small (16 assets × 150 days, planted IC 0.1) so the whole seed takes a few seconds.
Two report runs are made (the second with one more horizon) so there is something to compare. The
researcher creates a candidate per signal of the first run and evaluates each to ``candidate``
through the same service the CLI uses; the planted ``volume_shock`` passes and is left for a
reviewer to accept, and a noise signal is left ``exploratory`` with its denial reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crypto_analyzer.core.settings import Settings, load_settings
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.governance import add_principal, init_service_key, open_governed
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.demo import DEMO_REPORT
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report
from crypto_analyzer.pipeline.workspace import init_workspace

__all__ = ["OTHER_TENANT", "PLANTED", "WebWorkspace", "seed_web_workspace"]

PLANTED = "volume_shock"
OTHER_TENANT = "team-b"
MARKET = SyntheticMarketConfig(assets=16, days=150, seed=11, planted_ic=0.1)
REPORT: dict[str, Any] = {
    **DEMO_REPORT,
    "min_assets": 10,
    "factor_window": 240,
    "splits": {"test_size": 480, "min_train_size": 960, "embargo": 4},
    "procedures": {"bootstrap_reps": 400, "pbo_blocks": 8},
    "portfolio": {**DEMO_REPORT["portfolio"], "k": 3},
}


@dataclass(frozen=True)
class WebWorkspace:
    """The seeded workspace: settings, the principals' tokens (by role; ``auditor`` is a second
    researcher, ``other-admin`` the admin of :data:`OTHER_TENANT`), runs and candidates."""

    settings: Settings
    tokens: dict[str, str]
    runs: tuple[str, ...]
    candidates: dict[str, str]
    """signal → candidate id (first run, horizon 1)."""
    statuses: dict[str, str]


def seed_web_workspace(
    directory: Path,
    *,
    tenant: str | None = None,
    market: SyntheticMarketConfig = MARKET,
    report: dict[str, Any] | None = None,
    db_url: str | None = None,
    service_key: Path | None = None,
) -> WebWorkspace:
    """Build the governed workspace in ``directory`` (a few seconds with the default market).

    ``db_url`` puts the database elsewhere (PostgreSQL); such a workspace has no default place
    for its service key, so pass ``service_key`` — the path ``CRYPTO_ANALYZER_SERVICE_KEY_FILE``
    names — and the key is created there.
    """
    report = report or REPORT
    directory.mkdir(parents=True, exist_ok=True)
    settings = load_settings(
        db_url=db_url or f"sqlite:///{(directory / 'workspace.sqlite').resolve()}",
        artifacts=f"file://{(directory / 'artifacts').resolve()}",
        tenant=tenant,
    )
    init_workspace(settings, WorkspaceMode.GOVERNED)
    if service_key is not None:
        init_service_key(settings, service_key)
    with open_engine(settings, read_only=False) as engine:
        ingest_synthetic(engine, market, tenant_id=settings.tenant, actor="researcher")
    admin = add_principal(settings, "admin", "admin", token=None)
    tokens = {"admin": admin.token}
    for role in ("researcher", "reviewer"):
        tokens[role] = add_principal(settings, role, role, token=admin.token).token
    # a second researcher whose key a test disables, and an admin of another tenant
    tokens["auditor"] = add_principal(settings, "auditor", "researcher", token=admin.token).token
    other = settings.model_copy(update={"tenant": OTHER_TENANT})
    init_workspace(other, WorkspaceMode.GOVERNED)
    tokens["other-admin"] = add_principal(other, "admin", "admin", token=None).token
    first = run_report(settings, ReportConfig.model_validate(report), actor="researcher")
    second_config = {**report, "horizons": [1, 2, 4], "hypothesis": "a wider horizon grid"}
    second = run_report(settings, ReportConfig.model_validate(second_config), actor="researcher")
    candidates: dict[str, str] = {}
    statuses: dict[str, str] = {}
    with open_governed(settings, token=tokens["researcher"]) as (service, principal):
        for signal in (PLANTED, "momentum_24h"):
            made = service.create(
                run_instance_id=first.run_instance_id, signal=signal, horizon=1, actor=principal
            )
            outcome = service.evaluate(made.candidate_id, target="candidate", actor=principal)
            candidates[signal] = made.candidate_id
            statuses[signal] = outcome.candidate.status
    return WebWorkspace(
        settings, tokens, (first.run_instance_id, second.run_instance_id), candidates, statuses
    )
