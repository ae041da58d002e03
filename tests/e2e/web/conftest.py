"""Fixtures for the dashboard tests: one seeded governed workspace per module and the dashboard
served by uvicorn on a real 127.0.0.1 socket (``FastAPI()`` + ``include_router(web_router(…))``,
exactly the line the API app uses)."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent))

from web_workspace import WebWorkspace, seed_web_workspace

from crypto_analyzer.web import web_router

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "web"


@dataclass(frozen=True)
class Served:
    """The workspace and the base URL of the dashboard serving it."""

    workspace: WebWorkspace
    base: str

    def url(self, path: str) -> str:
        return self.base + path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(workspace: WebWorkspace) -> Iterator[Served]:
    """The dashboard of ``workspace`` on a free 127.0.0.1 port, for the ``with`` block."""
    app = FastAPI()
    router = web_router(workspace.settings)
    app.include_router(router)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield Served(workspace, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        router.web_context.dispose()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workspace = seed_web_workspace(tmp_path_factory.mktemp("web") / "workspace")
    with serve(workspace) as running:
        yield running


def login(client: httpx.Client, served: Served, role: str, tenant: str = "default") -> httpx.Client:
    """Log ``client`` in through the form (fetching its CSRF token first)."""
    page = client.get(served.url("/web/login"))
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        served.url("/web/login"),
        data={
            "api_key": served.workspace.tokens[role],
            "tenant": tenant,
            "csrf_token": token,
            "next": "/web/runs",
        },
    )
    assert answer.status_code == 303, answer.text
    return client


@pytest.fixture
def shots() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
