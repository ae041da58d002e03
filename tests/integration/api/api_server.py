"""A governed workspace with principals in two tenants, and the API served on a real socket.

``ApiWorkspace`` seeds one strong run per tenant (``gov_workspace.seed_run``: runs row, evidence,
bundle, lineage, trial ledger, anchored), registers an admin, a researcher and a reviewer in
each tenant plus a revoked researcher key, and ``serve`` runs ``create_app`` under uvicorn on
127.0.0.1 in a thread (a real TCP socket; the app and engines are this process's, so tests can
count rows and statements).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from gov_workspace import SeededRun, seed_run

from crypto_analyzer.api import ApiConfig, create_app
from crypto_analyzer.artifacts import ArtifactStore, open_store
from crypto_analyzer.core.settings import Settings, load_settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.db.workspace_mode import register_tenant
from crypto_analyzer.governance.principal_store import register_principal, revoke_api_key

__all__ = ["TENANTS", "ApiWorkspace", "build_workspace", "free_port", "serve"]

TENANTS = ("default", "other")
ROLES = ("researcher", "reviewer", "admin")


@dataclass
class ApiWorkspace:
    settings: Settings
    engine: sa.Engine
    store: ArtifactStore
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    """(tenant, role) → token."""
    key_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    revoked: str = ""
    runs: dict[str, SeededRun] = field(default_factory=dict)

    def headers(self, tenant: str, role: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(tenant, role)]}", **extra}

    def count(self, table: str, tenant: str = "default") -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text(f"SELECT COUNT(*) FROM {table} WHERE tenant_id = :t"), {"t": tenant}
                ).scalar_one()
            )


def build_workspace(db_url: str, root: Path) -> ApiWorkspace:
    """Migrate, register both tenants as governed, principals and one seeded run per tenant."""
    engine = create_db_engine(db_url)
    upgrade(engine)
    with engine.begin() as connection:
        for tenant in TENANTS:
            register_tenant(connection, tenant)
    store_url = f"file://{root / 'artifacts'}"
    store = open_store(store_url)
    workspace = ApiWorkspace(load_settings(db_url=db_url, artifacts=store_url), engine, store)
    for tenant in TENANTS:
        admin = register_principal(engine, tenant, f"{tenant}-ops", "admin", token=None)
        workspace.tokens[(tenant, "admin")] = admin.token
        workspace.key_ids[(tenant, "admin")] = admin.key_id
        for role, name in (("researcher", "alice"), ("reviewer", "bob")):
            issued = register_principal(engine, tenant, f"{tenant}-{name}", role, token=admin.token)
            workspace.tokens[(tenant, role)] = issued.token
            workspace.key_ids[(tenant, role)] = issued.key_id
        run_id = "run-0001" if tenant == "default" else "run-9001"
        workspace.runs[tenant] = seed_run(engine, store, run_instance_id=run_id, tenant_id=tenant)
    gone = register_principal(engine, "default", "rex", "researcher", token=admin_token(workspace))
    revoke_api_key(engine, "default", gone.key_id, token=admin_token(workspace))
    workspace.revoked = gone.token
    return workspace


def admin_token(workspace: ApiWorkspace, tenant: str = "default") -> str:
    return workspace.tokens[(tenant, "admin")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(settings: Settings, config: ApiConfig | None = None) -> Iterator[tuple[str, FastAPI]]:
    """``create_app`` under uvicorn on 127.0.0.1:<free port> in a thread; stopped on exit."""
    app = create_app(settings, config or ApiConfig(rate_per_minute=100_000, burst=10_000))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=30.0)
