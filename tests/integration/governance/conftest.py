"""Fixtures for governance integration tests: databases, an artifact store, seeded runs.

The governance suites need many fresh databases (each bypass attempt starts from a clean governed
workspace). Migrating every one from scratch costs about a second on PostgreSQL, so this folder
overrides ``backend_url`` and ``sqlite_url``: each test still gets its own real database on the same
sweep (the root ``backend_engine``/``sqlite_engine`` fixtures still open and upgrade it), but the
database starts as a copy of one migrated per session — ``CREATE DATABASE … TEMPLATE`` on
PostgreSQL, a file copy on SQLite — so the upgrade finds it at head.

The validation-bundle factory is shared with the unit tests; its folder goes on ``sys.path`` here
so both suites build evidence the same way.

Every test runs the way a team deployment does: a service key on the "service host" (a folder
outside the database's), named by ``CRYPTO_ANALYZER_SERVICE_KEY_FILE`` (:func:`service_key`), so
governed rows are MACed and every governed write leaves a signed checkpoint in the store.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "governance"))

from gov_workspace import SeededRun, make_service, seed_run

from crypto_analyzer.artifacts import ArtifactStore, open_store
from crypto_analyzer.core.service_key import ServiceKey, create_service_key
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.governance import GovernanceService

_PG_TEMPLATE = f"t_governance_template_{uuid.uuid4().hex[:8]}"


def _admin(server: str) -> sa.Engine:
    return sa.create_engine(
        server.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session."""
    path = tmp_path_factory.mktemp("governance-template") / "template.sqlite"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str) -> Iterator[str]:
    """A PostgreSQL database migrated to head once per session, used as CREATE DATABASE template."""
    admin = _admin(postgres_server)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{_PG_TEMPLATE}"')
    engine = create_db_engine(postgres_server.rsplit("/", 1)[0] + f"/{_PG_TEMPLATE}")
    upgrade(engine)
    engine.dispose()
    try:
        yield _PG_TEMPLATE
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{_PG_TEMPLATE}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    target = tmp_path / "workspace.sqlite"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The root sweep (SQLite, PostgreSQL), each database a copy of a migrated template."""
    if request.param == "sqlite":
        target = tmp_path / "backend.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin(server)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


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
    """A local artifact store in the test's temporary folder."""
    return open_store(f"file://{tmp_path / 'artifacts'}")


@pytest.fixture
def seeded(backend_engine: sa.Engine, store: ArtifactStore) -> SeededRun:
    """One strong run on each backend."""
    return seed_run(backend_engine, store)


@pytest.fixture
def service(backend_engine: sa.Engine, store: ArtifactStore) -> GovernanceService:
    return make_service(backend_engine, store)
