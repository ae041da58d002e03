"""The notebook facade: ``import crypto_analyzer as ca`` (DESIGN §9).

A small, stable surface over the same services the CLI calls — no logic of its own. The names
``crypto_analyzer`` exports lazily are listed once, in :data:`crypto_analyzer.facade.PUBLIC`;
``import crypto_analyzer`` itself stays cheap (nothing here is imported until a name is used).
"""

from __future__ import annotations

__all__ = ["PUBLIC"]

PUBLIC: dict[str, str] = {
    # workspaces and everything done in one
    "Workspace": "crypto_analyzer.facade.workspace",
    "open_workspace": "crypto_analyzer.facade.workspace",
    # configs and results callers build or inspect
    "ReportConfig": "crypto_analyzer.pipeline.report.config",
    "SyntheticMarketConfig": "crypto_analyzer.ingest.synthetic",
    # statistics over pandas objects (labels kept) as well as numpy arrays; not ``stats``, which
    # is the pure numpy package ``crypto_analyzer.stats`` itself
    "statistics": "crypto_analyzer.facade.statistics",
}
"""Public name → module that defines it (``statistics`` is the module itself)."""
