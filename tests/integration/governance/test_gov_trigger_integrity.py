"""Triggers are checked by what they do, not by name (issue 21, finding 4).

Someone with DDL rights keeps every trigger *name* while making it harmless: a no-op body, a
trigger that is disabled or fires only in replica mode, a trigger moved to another table, a
trigger function whose body or settings were replaced. Each must make ``db check`` exit 1 naming
the trigger (or the function and the triggers using it) and give ``audit verify`` a finding. Each
case first shows that the tampering really opened a hole, so the check is what stands in the way.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from gov_attacks import Workspace, build_workspace
from typer.testing import CliRunner

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.cli.audit import app as audit_app
from crypto_analyzer.cli.db import app as db_app
from crypto_analyzer.core.settings import reset_settings_cache

runner = CliRunner()
POSTGRES_ONLY = pytest.mark.parametrize(
    "backend_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
GUARD = "trg_promotion_candidates_guard_update"


@pytest.fixture
def ws(
    backend_engine: sa.Engine, store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> Workspace:
    monkeypatch.setenv("CRYPTO_ANALYZER_ARTIFACTS", store.url)
    reset_settings_cache()
    return build_workspace(backend_engine, store)


def _ddl(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def _demote(ws: Workspace) -> None:
    """Only possible while the update guard does nothing: accepted → exploratory, no event."""
    _ddl(
        ws.engine,
        "UPDATE promotion_candidates SET status = 'exploratory', eligibility_report_id = NULL "
        f"WHERE candidate_id = '{ws.accepted}'",
    )


def _reported(url: str, *names: str) -> list[str]:
    """``db check`` exits 1 naming each of ``names``; ``audit verify`` too. Returns the lines."""
    check = runner.invoke(db_app, ["check", "--db", url])
    assert check.exit_code == 1, check.output
    lines = [line for line in check.stderr.splitlines() if line.startswith("trigger: ")]
    for name in names:
        assert any(name in line for line in lines), (name, check.stderr)
    verify = runner.invoke(audit_app, ["verify", "--db", url, "--json"])
    assert verify.exit_code == 1, verify.output
    findings = [
        f["message"] for f in json.loads(verify.stdout)["findings"] if f["check"] == "triggers"
    ]
    for name in names:
        assert any(name in message for message in findings), (name, findings)
    return lines


def test_an_untouched_database_passes_both_checks(ws: Workspace, backend_url: str) -> None:
    check = runner.invoke(db_app, ["check", "--db", backend_url, "--json"])
    assert check.exit_code == 0, check.output
    assert json.loads(check.stdout)["triggers"] == []
    verify = runner.invoke(audit_app, ["verify", "--db", backend_url, "--json"])
    assert verify.exit_code == 0, verify.output


def test_a_no_op_body_under_the_same_name_is_found(ws: Workspace, backend_url: str) -> None:
    if ws.engine.dialect.name == "sqlite":
        noop = f"CREATE TRIGGER {GUARD} BEFORE UPDATE ON promotion_candidates BEGIN SELECT 1; END"
        _ddl(ws.engine, f"DROP TRIGGER {GUARD}", noop)
    else:  # same function, but a WHEN clause that never holds
        _ddl(
            ws.engine,
            f"DROP TRIGGER {GUARD} ON promotion_candidates",
            f"CREATE TRIGGER {GUARD} BEFORE UPDATE ON promotion_candidates FOR EACH ROW "
            "WHEN (false) EXECUTE FUNCTION ca_guard_candidate_update()",
            f"ALTER TABLE promotion_candidates ENABLE ALWAYS TRIGGER {GUARD}",
        )
    _demote(ws)
    lines = _reported(backend_url, GUARD)
    assert any("definition differs from the migrations" in line for line in lines), lines


def test_a_trigger_moved_to_another_table_is_found(ws: Workspace, backend_url: str) -> None:
    name = "trg_promotion_candidates_no_delete"
    if ws.engine.dialect.name == "sqlite":
        _ddl(
            ws.engine,
            f"DROP TRIGGER {name}",
            f"CREATE TRIGGER {name} BEFORE DELETE ON runs BEGIN "
            "SELECT RAISE(ABORT, 'promotion_candidates rows cannot be deleted'); END",
        )
    else:
        _ddl(
            ws.engine,
            f"DROP TRIGGER {name} ON promotion_candidates",
            f"CREATE TRIGGER {name} BEFORE DELETE ON runs FOR EACH ROW "
            "EXECUTE FUNCTION ca_reject_candidate_delete()",
        )
    _ddl(ws.engine, f"DELETE FROM promotion_candidates WHERE candidate_id = '{ws.rejected}'")
    lines = _reported(backend_url, name)
    assert any("is on table runs, expected on promotion_candidates" in line for line in lines)


def test_an_extra_trigger_on_a_governed_table_is_found(ws: Workspace, backend_url: str) -> None:
    name = "zz_rewrite_status"
    if ws.engine.dialect.name == "sqlite":
        body = "BEGIN SELECT 1; END"
        _ddl(ws.engine, f"CREATE TRIGGER {name} AFTER INSERT ON promotion_candidates {body}")
    else:  # fires after the guard (alphabetical order) and could rewrite the checked row
        _ddl(
            ws.engine,
            "CREATE FUNCTION zz_rewrite() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RETURN NEW; END $$",
            f"CREATE TRIGGER {name} BEFORE UPDATE ON promotion_candidates FOR EACH ROW "
            "EXECUTE FUNCTION zz_rewrite()",
        )
    lines = _reported(backend_url, name)
    assert any("is not created by any migration" in line for line in lines), lines


@POSTGRES_ONLY
def test_a_disabled_or_origin_only_trigger_is_found(ws: Workspace, backend_url: str) -> None:
    _ddl(ws.engine, f"ALTER TABLE promotion_candidates DISABLE TRIGGER {GUARD}")
    _demote(ws)
    lines = _reported(backend_url, GUARD)
    assert any("'disabled'" in line and "never fires" in line for line in lines), lines
    # Re-enabled in the default (origin) mode: session_replication_role = replica skips it.
    _ddl(ws.engine, f"ALTER TABLE promotion_candidates ENABLE TRIGGER {GUARD}")
    lines = _reported(backend_url, GUARD)
    assert any("'origin'" in line and "replica" in line for line in lines), lines


_FUNCTION_TAMPERING: dict[str, Callable[[], list[str]]] = {
    "no-op body": lambda: [
        "CREATE OR REPLACE FUNCTION ca_guard_candidate_update() RETURNS trigger "
        "LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$ BEGIN RETURN NEW; END $$"
    ],
    "search_path reset": lambda: ["ALTER FUNCTION ca_guard_candidate_update() RESET search_path"],
    "security definer": lambda: ["ALTER FUNCTION ca_guard_candidate_update() SECURITY DEFINER"],
}


@POSTGRES_ONLY
@pytest.mark.parametrize("tampering", sorted(_FUNCTION_TAMPERING))
def test_a_replaced_trigger_function_is_found(
    ws: Workspace, backend_url: str, tampering: str
) -> None:
    _ddl(ws.engine, *_FUNCTION_TAMPERING[tampering]())
    if tampering == "no-op body":
        _demote(ws)
    lines = _reported(backend_url, "ca_guard_candidate_update", GUARD)
    assert any("body, settings or security mode differ" in line for line in lines), lines


@POSTGRES_ONLY
def test_a_dropped_trigger_function_is_found(ws: Workspace, backend_url: str) -> None:
    _ddl(ws.engine, "DROP FUNCTION ca_guard_signing_key_update() CASCADE")
    lines = _reported(backend_url, "ca_guard_signing_key_update", "trg_signing_keys_guard_update")
    assert any("is missing" in line for line in lines), lines


def test_doctor_reports_the_same_findings(ws: Workspace, backend_url: str) -> None:
    from crypto_analyzer.cli.app import app as root_app

    healthy = runner.invoke(root_app, ["doctor", "--db", backend_url, "--json"])
    checks = {c["name"]: c for c in json.loads(healthy.stdout)["checks"]}
    assert checks["governance triggers"]["ok"] is True, checks["governance triggers"]
    name = "trg_eligibility_reports_no_update"
    drop = f"DROP TRIGGER {name}" + (
        "" if ws.engine.dialect.name == "sqlite" else " ON eligibility_reports"
    )
    _ddl(ws.engine, drop)
    broken = runner.invoke(root_app, ["doctor", "--db", backend_url, "--json"])
    assert broken.exit_code == 1, broken.output
    check = {c["name"]: c for c in json.loads(broken.stdout)["checks"]}["governance triggers"]
    assert check["ok"] is False and name in check["detail"] and "missing" in check["detail"]
