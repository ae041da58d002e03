"""Fixtures for the tenancy suites: an owner URL, an application-role URL, a service key.

The PostgreSQL fixtures follow a team deployment: the schema is migrated by the owner (the test
cluster's superuser), ``ensure_app_role`` creates the application role, and the code under test
connects as that role, to which forced row-level security applies. The governance seeding helpers
(``gov_workspace``, ``gov_factories``) are shared with the governance suites.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(_TESTS / "integration" / "governance"))
sys.path.insert(0, str(_TESTS / "unit" / "governance"))

from tenancy_support import as_role  # noqa: E402

from crypto_analyzer.artifacts import ArtifactStore, open_store  # noqa: E402
from crypto_analyzer.core.service_key import ServiceKey, create_service_key  # noqa: E402
from crypto_analyzer.core.settings import DEFAULT_APP_ROLE  # noqa: E402


@pytest.fixture
def app_url(postgres_url: str) -> str:
    """The fresh database of ``postgres_url`` as the application role (migrate it first)."""
    return as_role(postgres_url, DEFAULT_APP_ROLE)


@pytest.fixture(autouse=True)
def service_key(
    clean_environment: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ServiceKey:
    """The deployment's service key, outside the database, named by the environment."""
    host = tmp_path / "service-host"
    host.mkdir()
    key = create_service_key(host / "service.key")
    monkeypatch.setenv("CRYPTO_ANALYZER_SERVICE_KEY_FILE", str(key.path))
    return key


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return open_store(f"file://{tmp_path / 'artifacts'}")
