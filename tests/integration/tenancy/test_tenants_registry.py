"""The tenants registry and the cross-tenant matrix through the services and the CLI.

Runs on SQLite and on PostgreSQL; on PostgreSQL the commands connect as the application role
(``CRYPTO_ANALYZER_DB_URL``) and the admin commands as the owner (``…_ADMIN_DB_URL``), the way a
team deployment is configured.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from gov_workspace import make_service, seed_run
from tenancy_support import as_role
from typer.testing import CliRunner

from crypto_analyzer.artifacts import ArtifactStore, open_store
from crypto_analyzer.cli.app import app
from crypto_analyzer.core.settings import (
    DEFAULT_APP_ROLE,
    Settings,
    load_settings,
    reset_settings_cache,
)
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.governance.errors import PolicyConfigError
from crypto_analyzer.governance.policy import load_policy_config
from crypto_analyzer.governance.tenants import create_tenant, list_tenants
from crypto_analyzer.governance.workspace import open_service

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Environment of a deployment (app URL, owner URL, store); returns its settings."""
    artifacts = f"file://{tmp_path / 'artifacts'}"
    if request.param == "sqlite":
        env = {"CRYPTO_ANALYZER_DB_URL": f"sqlite:///{tmp_path / 'w.sqlite'}"}
    else:
        owner = request.getfixturevalue("postgres_url")
        env = {
            "CRYPTO_ANALYZER_DB_URL": as_role(owner, DEFAULT_APP_ROLE),
            "CRYPTO_ANALYZER_ADMIN_DB_URL": owner,
        }
    env["CRYPTO_ANALYZER_ARTIFACTS"] = artifacts
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    return load_settings()


def _cli(*args: str) -> tuple[int, str]:
    outcome = runner.invoke(app, list(args))
    return outcome.exit_code, outcome.stdout


def _refused(*args: str) -> str:
    """The error of a command that must fail because the candidate is not the tenant's."""
    outcome = runner.invoke(app, list(args))
    assert outcome.exit_code != 0, outcome.output
    return " ".join(outcome.stderr.split())


def _strict_policy(path: Path) -> Path:
    text = (
        Path(__file__).resolve().parents[3] / "src/crypto_analyzer/governance/policy"
    ) / "default_policy.toml"
    path.write_text(
        text.read_text().replace('policy_id = "crypto_analyzer.default"', 'policy_id = "desk_b"')
    )
    return path


def _seed(settings: Settings, tenant: str, store: ArtifactStore) -> str:
    engine = create_db_engine(settings.db_url, tenant=tenant)
    try:
        run = seed_run(engine, store, run_instance_id=f"run-{tenant}", tenant_id=tenant)
        service = make_service(engine, store, tenant_id=tenant)
        created = service.create(
            run_instance_id=run.run_instance_id, signal=run.signal, horizon=4, actor="alice"
        )
        return created.candidate_id
    finally:
        engine.dispose()


def test_tenants_registry_policies_chains_and_the_cli_matrix(
    deployment: Settings, tmp_path: Path
) -> None:
    code, _ = _cli("init", "--tenant", "desk-a")
    assert code == 0
    policy = _strict_policy(tmp_path / "desk-b.toml")
    code, out = _cli("tenants", "create", "desk-b", "--policy", str(policy), "--json")
    assert code == 0, out
    desk_b_digest = load_policy_config(policy).digest()
    assert json.loads(out)["policy_digest"] == desk_b_digest
    assert _cli("tenants", "create", "Not/A/Tenant")[0] == 2

    store = open_store(deployment.artifacts)
    candidates = {tenant: _seed(deployment, tenant, store) for tenant in ("desk-a", "desk-b")}

    # each tenant its own policy: desk-b's evaluations are judged by desk-b's file
    for tenant, expected in (
        ("desk-a", load_policy_config(None).digest()),
        ("desk-b", desk_b_digest),
    ):
        settings = deployment.model_copy(update={"tenant": tenant})
        with open_service(settings, read_only=False) as service:
            outcome = service.evaluate(candidates[tenant], target="candidate", actor="alice")
        assert outcome.passed and outcome.report.policy_digest == expected

    # each tenant its own chain head
    listed = {info.tenant_id: info for info in list_tenants(deployment)}
    assert set(listed) == {"desk-a", "desk-b"}
    assert listed["desk-a"].events_seq == listed["desk-b"].events_seq == 1
    assert listed["desk-a"].events_hash != listed["desk-b"].events_hash
    code, out = _cli("tenants", "list", "--json")
    assert code == 0 and [row["tenant_id"] for row in json.loads(out)] == ["desk-a", "desk-b"]

    # the CLI as desk-b: cannot list, read, trace or promote desk-a's candidate
    code, out = _cli("promotion", "list", "--tenant", "desk-b", "--json")
    assert code == 0 and [c["candidate_id"] for c in json.loads(out)] == [candidates["desk-b"]]
    theirs = candidates["desk-a"]
    for command in (
        ("audit", "trace", theirs),
        ("promotion", "show", theirs),
        ("promotion", "evaluate", theirs, "--to", "accepted"),
        ("promotion", "reject", theirs, "--reason", "x"),
    ):
        message = _refused(*command, "--tenant", "desk-b")
        assert re.search(r"(does not exist|no candidate matches .*) in tenant 'desk-b'", message), (
            command,
            message,
        )
    with open_service(deployment.model_copy(update={"tenant": "desk-b"}), read_only=True) as svc:
        assert [c.candidate_id for c in svc.list_candidates()] == [candidates["desk-b"]]

    # audit verify: one tenant, and every tenant
    assert _cli("audit", "verify", "--tenant", "desk-a")[0] == 0
    code, out = _cli("audit", "verify", "--all-tenants", "--json")
    assert code == 0, out
    reports = json.loads(out)
    assert sorted(reports) == ["desk-a", "desk-b"]
    assert all(report["ok"] and report["checked"]["events"] == 2 for report in reports.values())


def test_a_tenant_policy_edited_in_the_store_is_refused(
    deployment: Settings, tmp_path: Path
) -> None:
    assert _cli("init")[0] == 0
    policy = _strict_policy(tmp_path / "desk-b.toml")
    info = create_tenant(deployment, "desk-b", policy_path=policy)
    assert info.registered and info.policy_digest
    again = create_tenant(deployment, "desk-b", policy_path=policy)  # idempotent
    assert again.policy_digest == info.policy_digest
    document = tmp_path / "artifacts" / "policies" / f"{info.policy_digest}.json"
    document.chmod(0o644)
    document.write_bytes(document.read_bytes().replace(b"desk_b", b"desk_x"))
    message = _refused("audit", "verify", "--tenant", "desk-b")
    assert "hashes to" in message  # refused, never replaced by the default policy
    desk_b = deployment.model_copy(update={"tenant": "desk-b"})
    with pytest.raises(PolicyConfigError, match="hashes to"), open_service(desk_b, read_only=False):
        pass
