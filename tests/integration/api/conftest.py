"""API fixtures: a service key on the "service host", a two-tenant workspace, a running server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

_TESTS = Path(__file__).resolve().parents[2]
for folder in (_TESTS / "unit" / "governance", _TESTS / "integration" / "governance"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from api_server import ApiWorkspace, build_workspace, serve  # noqa: E402

from crypto_analyzer.core.service_key import ServiceKey, create_service_key  # noqa: E402


@pytest.fixture(autouse=True)
def service_key(
    clean_environment: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ServiceKey:
    host = tmp_path / "service-host"
    host.mkdir()
    key = create_service_key(host / "service.key")
    monkeypatch.setenv("CRYPTO_ANALYZER_SERVICE_KEY_FILE", str(key.path))
    return key


@pytest.fixture
def workspace(backend_url: str, tmp_path: Path) -> Iterator[ApiWorkspace]:
    built = build_workspace(backend_url, tmp_path)
    yield built
    built.engine.dispose()


@pytest.fixture
def api(workspace: ApiWorkspace) -> Iterator[httpx.Client]:
    with serve(workspace.settings) as (base, _app), httpx.Client(base_url=base, timeout=30) as c:
        yield c
