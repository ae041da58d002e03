"""Governed writes use the real clock; a sandbox says so; audit verify checks time order.

Review finding 6 (issue 21): ``CRYPTO_ANALYZER_FIXED_TIME`` dated governed events 2020, year 1 or
9999. A tenant now has a workspace mode stored in the database (revision 0008): ``governed`` (the
default, also when no tenant row exists) ignores the pinned clock for every governed write;
``sandbox`` (``init --sandbox``, the demo) may use it. Every event records the mode it was written
in, the database refuses to change a tenant's mode, and ``audit verify`` reports an event chain
whose ``created_at`` goes backwards, is not fixed-width text, is out of range, or whose recorded
mode differs from the tenant's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from gov_workspace import make_service, seed_run

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.clock import from_iso
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.db.workspace_mode import WorkspaceMode, read_mode, register_tenant
from crypto_analyzer.governance import verify_workspace
from crypto_analyzer.governance.chain import NewEvent, append_event, governed_transaction

FIXED_WIDTH = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
PINNED = "2020-01-01T00:00:00.000000Z"


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2020-01-01T00:00:00Z")
    reset_settings_cache()


def _stamps(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT created_at FROM governance_events UNION ALL "
            "SELECT created_at FROM eligibility_reports UNION ALL "
            "SELECT created_at FROM promotion_candidates UNION ALL "
            "SELECT updated_at FROM promotion_candidates"
        )
        return [row[0] for row in rows]


def _payloads(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.exec_driver_sql("SELECT payload_json FROM governance_events ORDER BY seq")
            .scalars()
            .all()
        )


def _lifecycle(engine: sa.Engine, store: ArtifactStore, tenant: str = "default") -> str:
    run = seed_run(engine, store, tenant_id=tenant)
    service = make_service(engine, store, tenant_id=tenant)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    service.promote(candidate, target="candidate", actor="alice")
    service.promote(candidate, target="accepted", actor="bob")
    service.revoke(candidate, reason="capacity", actor="rita")
    return candidate


def test_a_governed_workspace_ignores_the_pinned_clock(
    backend_engine: sa.Engine, store: ArtifactStore, pinned: None
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    _lifecycle(backend_engine, store)
    after = datetime.now(UTC) + timedelta(seconds=1)
    stamps = _stamps(backend_engine)
    assert len(stamps) == 4 + 2 + 1 + 1
    for stamp in stamps:
        assert FIXED_WIDTH.match(stamp), stamp
        assert before <= from_iso(stamp) <= after, stamp
    assert all('"workspace_mode":"governed"' in payload for payload in _payloads(backend_engine))
    with backend_engine.connect() as connection:
        assert read_mode(connection, "default") is WorkspaceMode.GOVERNED  # no tenant row: governed
    assert verify_workspace(backend_engine, store, "default").ok


def test_a_sandbox_uses_the_pinned_clock_and_records_its_mode(
    backend_engine: sa.Engine, store: ArtifactStore, pinned: None
) -> None:
    with backend_engine.begin() as connection:
        register_tenant(connection, "lab", WorkspaceMode.SANDBOX)
    _lifecycle(backend_engine, store, tenant="lab")
    assert set(_stamps(backend_engine)) == {PINNED}
    payloads = _payloads(backend_engine)
    assert len(payloads) == 4
    for payload in payloads:
        assert '"workspace_mode":"sandbox"' in payload
        assert '"actor_source":"declared"' in payload
    report = verify_workspace(backend_engine, store, "lab")
    assert report.ok, report.findings


def test_the_mode_cannot_be_changed(backend_engine: sa.Engine, store: ArtifactStore) -> None:
    with backend_engine.begin() as connection:
        assert register_tenant(connection, "lab", WorkspaceMode.SANDBOX) is WorkspaceMode.SANDBOX
        assert register_tenant(connection, "lab", WorkspaceMode.SANDBOX) is WorkspaceMode.SANDBOX
        register_tenant(connection, "default", WorkspaceMode.GOVERNED)
    with backend_engine.begin() as connection, pytest.raises(ConfigError, match="never becomes"):
        register_tenant(connection, "lab", WorkspaceMode.GOVERNED)
    with backend_engine.begin() as connection, pytest.raises(ConfigError, match="never becomes"):
        register_tenant(connection, "default", WorkspaceMode.SANDBOX)
    # A tenant with governed history but no tenant row (older databases) cannot become a sandbox.
    _lifecycle(backend_engine, store, tenant="desk")
    with backend_engine.begin() as connection, pytest.raises(ConfigError, match="governed"):
        register_tenant(connection, "desk", WorkspaceMode.SANDBOX)
    # The database refuses the same changes to anyone with plain DML rights.
    attempts = [
        "UPDATE tenants SET mode = 'governed' WHERE tenant_id = 'lab'",
        "UPDATE tenants SET mode = 'sandbox' WHERE tenant_id = 'default'",
        "UPDATE tenants SET tenant_id = 'desk' WHERE tenant_id = 'lab'",
        "DELETE FROM tenants WHERE tenant_id = 'default'",
        "INSERT INTO tenants (tenant_id, name, created_at, mode) "
        "VALUES ('desk', 'desk', 'x', 'sandbox')",
        "UPDATE tenants SET mode = 'SANDBOX' WHERE tenant_id = 'lab'",
    ]
    for statement in attempts:
        with pytest.raises(sa.exc.DBAPIError), backend_engine.begin() as connection:
            connection.exec_driver_sql(statement)
    with backend_engine.connect() as connection:
        assert read_mode(connection, "lab") is WorkspaceMode.SANDBOX
        assert read_mode(connection, "default") is WorkspaceMode.GOVERNED
        assert read_mode(connection, "desk") is WorkspaceMode.GOVERNED


def _forge(engine: sa.Engine, created_at: str, payload: dict[str, object] | None = None) -> None:
    """Append an event with a valid hash and an arbitrary time, as a DML-rights operator could
    (without the service key, which the database does not hold)."""
    with governed_transaction(engine, "default") as connection:
        append_event(
            connection,
            "default",
            NewEvent(None, "created", "mallory", payload or {"workspace_mode": "governed"}),
            created_at=created_at,
            key=None,
        )


@pytest.mark.parametrize(
    ("forged", "fragment"),
    [
        ("2021-01-01T00:00:00.000000Z", "earlier than"),
        ("1-01-01T00:00:00.000000Z", "fixed-width"),
        ("2024-01-01T00:00:00Z", "fixed-width"),
        ("9999-12-31T23:59:59.999999Z", "outside"),
        ("2099-01-01T00:00:00.000000Z", "in the future"),
    ],
    ids=["backwards", "year-1", "short", "year-9999", "future"],
)
def test_audit_verify_checks_time_order(
    backend_engine: sa.Engine, store: ArtifactStore, forged: str, fragment: str
) -> None:
    _lifecycle(backend_engine, store)
    assert verify_workspace(backend_engine, store, "default").ok
    _forge(backend_engine, forged)
    report = verify_workspace(backend_engine, store, "default")
    messages = [f"{f.check}: {f.message}" for f in report.findings]
    assert any(m.startswith("time:") and fragment in m for m in messages), messages
    assert not any(m.startswith("chain:") for m in messages)  # the hash chain itself is intact
    assert any(m.startswith("mac:") and "has no MAC" in m for m in messages), messages


def test_audit_verify_reports_an_event_written_in_another_mode(
    backend_engine: sa.Engine, store: ArtifactStore
) -> None:
    _lifecycle(backend_engine, store)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    _forge(backend_engine, now, {"workspace_mode": "sandbox"})
    report = verify_workspace(backend_engine, store, "default")
    messages = [f"{f.check}: {f.message}" for f in report.findings]
    assert any(m.startswith("mode:") and "sandbox" in m for m in messages), messages


def test_revision_0008_upgrades_existing_tenants_to_governed(backend_engine: sa.Engine) -> None:
    from alembic import command

    from crypto_analyzer.db.health import present_triggers
    from crypto_analyzer.db.migrate import alembic_config, upgrade

    config = alembic_config()
    with backend_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    columns = {column["name"] for column in sa.inspect(backend_engine).get_columns("tenants")}
    assert "mode" not in columns
    with backend_engine.begin() as connection:
        assert not {name for name in present_triggers(connection) if "tenants" in name}
        connection.exec_driver_sql(
            "INSERT INTO tenants (tenant_id, name, created_at) VALUES ('old', 'old', 'x')"
        )
    upgrade(backend_engine)
    upgrade(backend_engine)  # idempotent
    with backend_engine.connect() as connection:
        assert read_mode(connection, "old") is WorkspaceMode.GOVERNED
        assert {"trg_tenants_guard_update", "trg_tenants_no_delete"} <= present_triggers(connection)
