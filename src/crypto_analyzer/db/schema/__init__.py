"""Table definitions (SQLAlchemy Core) for every table family, on one shared ``MetaData``.

Data-access modules import tables from here. Migrations do not: each revision is self-contained.
"""

from __future__ import annotations

from crypto_analyzer.db.schema import (
    access,
    derived,
    experiments,
    governance,
    history,
    ingest,
    ledger,
    lineage,
    market,
)
from crypto_analyzer.db.schema._base import DEFAULT_TENANT, metadata
from crypto_analyzer.db.schema.access import api_keys, idempotency_keys, principals, tenants
from crypto_analyzer.db.schema.derived import (
    factor_betas,
    factor_residuals,
    factor_runs,
    regime_runs,
    regime_states,
)
from crypto_analyzer.db.schema.experiments import (
    run_artifacts,
    run_metrics,
    runs,
    sweep_families,
    sweep_hypotheses,
)
from crypto_analyzer.db.schema.governance import (
    eligibility_reports,
    governance_events,
    promotion_candidates,
    signing_keys,
)
from crypto_analyzer.db.schema.history import bars_history, instruments_history, market_revisions
from crypto_analyzer.db.schema.ingest import ingest_rejects, ingest_runs, provider_health
from crypto_analyzer.db.schema.ledger import trial_ledger
from crypto_analyzer.db.schema.lineage import artifact_edges, artifact_lineage
from crypto_analyzer.db.schema.market import (
    bars,
    instruments,
    price_snapshots,
    universe_churn,
    universe_members,
    universe_snapshots,
)

APPEND_ONLY_TABLES = (
    "governance_events",
    "eligibility_reports",
    "artifact_lineage",
    "artifact_edges",
    "trial_ledger",
    "market_revisions",
    "bars_history",
    "instruments_history",
)
"""Tables whose rows can never be updated or deleted (enforced by triggers in the migrations:
0001 for governance and lineage, 0004 for the market revision log and history)."""

__all__ = [
    "APPEND_ONLY_TABLES",
    "DEFAULT_TENANT",
    "access",
    "api_keys",
    "artifact_edges",
    "artifact_lineage",
    "bars",
    "bars_history",
    "derived",
    "eligibility_reports",
    "experiments",
    "factor_betas",
    "factor_residuals",
    "factor_runs",
    "governance",
    "governance_events",
    "history",
    "idempotency_keys",
    "ingest",
    "ingest_rejects",
    "ingest_runs",
    "instruments",
    "instruments_history",
    "ledger",
    "lineage",
    "market",
    "market_revisions",
    "metadata",
    "price_snapshots",
    "principals",
    "promotion_candidates",
    "provider_health",
    "regime_runs",
    "regime_states",
    "run_artifacts",
    "run_metrics",
    "runs",
    "signing_keys",
    "sweep_families",
    "sweep_hypotheses",
    "tenants",
    "trial_ledger",
    "universe_churn",
    "universe_members",
    "universe_snapshots",
]
