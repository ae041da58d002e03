"""Revision 0009 and the trigger manifest: fresh databases match it, re-runs converge, the
downgrade restores 0002's exact triggers and functions, and a stale manifest fails the check.

These run on *fresh* databases (not the governance folder's template copies) because they are
about what the migrations produce.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import alembic_config, upgrade
from crypto_analyzer.db.trigger_catalog import CatalogSnapshot, snapshot_catalog
from crypto_analyzer.db.trigger_manifest import FUNCTIONS, TRIGGERS

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "trigger_manifest.py"
BEFORE_0009 = str(ScriptDirectory.from_config(alembic_config()).get_revision("0009").down_revision)
"""The revision 0009 follows (rewritten when branches merge; the tests follow it)."""
STALE = "stale: run `python scripts/trigger_manifest.py` and commit db/trigger_manifest.py"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty database (no template copy), not migrated."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_db_engine(url)
    yield engine
    engine.dispose()


def _snapshot(engine: sa.Engine) -> CatalogSnapshot:
    with engine.connect() as connection:
        return snapshot_catalog(connection)


def _alembic(engine: sa.Engine, action: str, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def _matches_manifest(engine: sa.Engine) -> None:
    snap = _snapshot(engine)
    dialect = engine.dialect.name
    assert snap.trigger_manifest() == TRIGGERS[dialect], STALE
    assert snap.function_manifest() == FUNCTIONS[dialect], STALE


def test_a_fresh_database_matches_the_manifest(fresh_engine: sa.Engine) -> None:
    upgrade(fresh_engine)
    _matches_manifest(fresh_engine)


def test_rerunning_the_revision_converges(fresh_engine: sa.Engine) -> None:
    upgrade(fresh_engine)
    # Half-migrated or hand-edited: triggers of 0009 and 0001 gone, one weakened, one function
    # reset. Re-running 0009 restores them (0001's append-only triggers included).
    with fresh_engine.begin() as connection:
        if fresh_engine.dialect.name == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER trg_artifact_edges_no_replace")
            connection.exec_driver_sql("DROP TRIGGER trg_signing_keys_guard_update")
            connection.exec_driver_sql("DROP TRIGGER trg_artifact_lineage_no_delete")
        else:
            connection.exec_driver_sql("DROP TRIGGER trg_signing_keys_no_delete ON signing_keys")
            connection.exec_driver_sql(
                "DROP TRIGGER trg_artifact_lineage_no_truncate ON artifact_lineage"
            )
            connection.exec_driver_sql(
                "ALTER TABLE eligibility_reports ENABLE TRIGGER trg_eligibility_reports_no_update"
            )
            connection.exec_driver_sql("ALTER FUNCTION ca_guard_event_insert() RESET search_path")
    _alembic(fresh_engine, "stamp", BEFORE_0009)
    upgrade(fresh_engine)
    _matches_manifest(fresh_engine)
    _alembic(fresh_engine, "stamp", BEFORE_0009)
    upgrade(fresh_engine)  # and once more on an intact database: nothing changes
    _matches_manifest(fresh_engine)


def test_the_downgrade_restores_the_previous_triggers_exactly(fresh_engine: sa.Engine) -> None:
    upgrade(fresh_engine, BEFORE_0009)
    before = _snapshot(fresh_engine)
    upgrade(fresh_engine)
    assert _snapshot(fresh_engine) != before
    _alembic(fresh_engine, "downgrade", BEFORE_0009)
    assert _snapshot(fresh_engine) == before
    upgrade(fresh_engine)
    _matches_manifest(fresh_engine)


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trigger_manifest_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.postgres
def test_the_script_check_mode_passes_and_catches_a_stale_manifest(
    postgres_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = _script()
    assert script.main(["--check", "--postgres-url", postgres_server]) == 0, STALE
    stale = tmp_path / "trigger_manifest.py"
    text = script.MANIFEST_PATH.read_text(encoding="utf-8")
    digest = TRIGGERS["postgresql"]["trg_promotion_candidates_guard_update"]["digest"]
    stale.write_text(text.replace(digest, "0" * 64), encoding="utf-8")
    monkeypatch.setattr(script, "MANIFEST_PATH", stale)
    assert script.main(["--check", "--postgres-url", postgres_server]) == 1
    assert script.main(["--postgres-url", postgres_server]) == 0  # regenerates
    assert stale.read_text(encoding="utf-8") == text


@pytest.mark.postgres
def test_a_later_revisions_unpinned_function_is_pinned_too(postgres_url: str) -> None:
    """A ``ca_*`` function written with bare table names cannot be fooled by a TEMP table."""
    engine = create_db_engine(postgres_url)
    upgrade(engine, BEFORE_0009)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE FUNCTION ca_probe() RETURNS bigint LANGUAGE sql "
            "AS 'SELECT count(*) FROM governance_events'"
        )
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TEMP TABLE governance_events (x int)")
        connection.exec_driver_sql("INSERT INTO governance_events VALUES (1), (2)")
        assert connection.exec_driver_sql("SELECT ca_probe()").scalar_one() == 0
        connection.rollback()
    _alembic(engine, "downgrade", BEFORE_0009)
    with engine.connect() as connection:
        config = connection.exec_driver_sql(
            "SELECT proconfig FROM pg_proc WHERE proname = 'ca_probe'"
        ).scalar_one()
    assert config is None  # the downgrade takes back only what 0009 set
    engine.dispose()
