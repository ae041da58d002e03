"""Principals through the CLI: tokens, roles, ``--actor`` checks, look-alikes, planted config.

Review findings 7 and 9 (issue 21). In a governed workspace the actor is who the caller *is*: the
principal of the token in ``CRYPTO_ANALYZER_TOKEN`` (or, while no principal is registered, the OS
account). ``--actor`` may only repeat that identity; separation of duties compares normalised ids,
so the first promoter cannot come back spelled differently; and a ``crypto-analyzer.toml`` in the
working directory is announced and cannot pin the clock of governed writes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from gov_workspace import SeededRun, seed_run
from typer.testing import CliRunner

from crypto_analyzer.artifacts import ArtifactStore, open_store
from crypto_analyzer.cli.app import app
from crypto_analyzer.core.clock import from_iso
from crypto_analyzer.core.settings import reset_settings_cache

runner = CliRunner()


@pytest.fixture
def workspace(
    backend_engine: sa.Engine, backend_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, SeededRun]:
    store: ArtifactStore = open_store(f"file://{tmp_path / 'artifacts'}")
    run = seed_run(backend_engine, store)
    monkeypatch.setenv("CRYPTO_ANALYZER_ARTIFACTS", store.url)
    monkeypatch.setenv("CRYPTO_ANALYZER_DB_URL", backend_url)
    reset_settings_cache()
    return backend_url, run


def _ca(*args: str, token: str | None = None, env: dict[str, str] | None = None):
    environment = {"CRYPTO_ANALYZER_TOKEN": token or "", **(env or {})}
    return runner.invoke(app, list(args), env=environment)


def _add(name: str, role: str, token: str | None = None) -> str:
    result = _ca("principals", "add", name, "--role", role, token=token)
    assert result.exit_code == 0, result.output
    issued = result.stdout.strip()
    assert issued.startswith("ca_") and len(issued.splitlines()) == 1
    return issued


def _create(run: SeededRun, token: str, *extra: str) -> str:
    result = _ca(
        "promotion", "create", "--run", run.run_instance_id, "--signal", "momentum",
        "--horizon", "4", "--json", *extra, token=token,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["candidate_id"])


def _one_error(result: object, fragment: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]  # type: ignore[attr-defined]
    assert len(lines) == 1 and fragment in lines[0], result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]


def test_tokens_authenticate_and_duties_compare_principals(
    workspace: tuple[str, SeededRun], backend_engine: sa.Engine
) -> None:
    _, run = workspace
    admin = _add("ops", "admin")  # bootstrap: no admin yet
    alice = _add("Alice", "researcher", token=admin)
    bob = _add("bob", "reviewer", token=admin)
    stored = _ca("principals", "list", "--json")
    assert stored.exit_code == 0, stored.output
    listed = {item["principal_id"]: item for item in json.loads(stored.stdout)}
    assert set(listed) == {"ops", "alice", "bob"} and listed["alice"]["display_name"] == "Alice"
    with backend_engine.connect() as connection:
        hashes = connection.exec_driver_sql("SELECT key_hash FROM api_keys").scalars().all()
    assert len(hashes) == 3 and alice not in hashes and all(len(h) == 64 for h in hashes)

    candidate = _create(run, alice, "--actor", "ALICE")  # --actor may repeat who you are
    shown = json.loads(_ca("promotion", "show", candidate, "--json").stdout)
    assert shown["candidate"]["created_by"] == "alice"
    first = _ca("promotion", "evaluate", candidate, "--to", "candidate", token=alice)
    assert first.exit_code == 0, first.output

    # alice cannot accept: her role does not allow it, whatever she calls herself
    own = _ca("promotion", "evaluate", candidate, "--to", "accepted", token=alice)
    assert own.exit_code == 1
    _one_error(own, "researcher")
    # an admin may accept, but not one who is alice in disguise: registering her twin is refused
    for twin in ("ALICE", "\u0430lice", "alice\u200b", "a1ice"):
        refused = _ca("principals", "add", twin, "--role", "admin", token=admin)
        assert refused.exit_code == 2, (twin, refused.output)
    accepted = _ca("promotion", "evaluate", candidate, "--to", "accepted", "--json", token=bob)
    assert accepted.exit_code == 0, accepted.output
    outcome = json.loads(accepted.stdout)
    assert outcome["candidate"]["status"] == "accepted"
    assert outcome["event"]["actor"] == "bob"
    assert outcome["event"]["payload"]["actor_source"] == "token"
    verified = _ca("audit", "verify", "--json")
    assert verified.exit_code == 0 and json.loads(verified.stdout)["ok"] is True


def test_wrong_disabled_and_mismatched_credentials_are_refused(
    workspace: tuple[str, SeededRun],
) -> None:
    _, run = workspace
    first = _ca("principals", "add", "alice", "--role", "researcher")
    assert first.exit_code == 2
    _one_error(first, "the first principal of a tenant must be an admin")
    admin = _add("ops", "admin")
    unauthenticated = _ca("principals", "add", "carol", "--role", "reviewer")
    assert unauthenticated.exit_code == 2
    _one_error(unauthenticated, "CRYPTO_ANALYZER_TOKEN")
    alice = _add("alice", "researcher", token=admin)
    carol = _add("carol", "reviewer", token=admin)
    denied = _ca("principals", "disable", "alice", token=carol)
    assert denied.exit_code == 1
    _one_error(denied, "admin")
    last = _ca("principals", "disable", "ops", token=admin)
    assert last.exit_code == 2
    _one_error(last, "last admin")

    assert _ca("promotion", "list").exit_code == 0  # reads need no credential
    for token in ("ca_not-a-real-token", alice[:-1], "Bearer " + alice):
        result = _ca(
            "promotion", "create", "--run", run.run_instance_id, "--signal", "momentum",
            "--horizon", "4", token=token,
        )  # fmt: skip
        assert result.exit_code == 2, result.output
        _one_error(result, "not a valid token")
        assert alice[4:] not in result.output  # a token never echoes back
    missing = _ca(
        "promotion", "create", "--run", run.run_instance_id, "--signal", "momentum",
        "--horizon", "4",
    )  # fmt: skip
    assert missing.exit_code == 2
    _one_error(missing, "CRYPTO_ANALYZER_TOKEN")
    mismatch = _ca(
        "promotion", "create", "--run", run.run_instance_id, "--signal", "momentum",
        "--horizon", "4", "--actor", "bob", token=alice,
    )  # fmt: skip
    assert mismatch.exit_code == 2
    _one_error(mismatch, "--actor 'bob' is not the authenticated principal 'alice'")


def test_a_disabled_principal_cannot_act(workspace: tuple[str, SeededRun]) -> None:
    _, run = workspace
    admin = _add("ops", "admin")
    alice = _add("alice", "researcher", token=admin)
    _create(run, alice)
    done = _ca("principals", "disable", "alice", token=admin)
    assert done.exit_code == 0, done.output
    listed = {p["principal_id"]: p for p in json.loads(_ca("principals", "list", "--json").stdout)}
    assert listed["alice"]["disabled_at"] is not None and listed["alice"]["active_keys"] == 0
    refused = _ca("promotion", "list", "--json")
    candidate = json.loads(refused.stdout)[0]["candidate_id"]
    result = _ca("promotion", "evaluate", candidate, "--to", "candidate", token=alice)
    assert result.exit_code == 2
    _one_error(result, "not a valid token")


def test_without_principals_the_os_account_acts(workspace: tuple[str, SeededRun]) -> None:
    _, run = workspace
    result = _ca(
        "promotion", "create", "--run", run.run_instance_id, "--signal", "momentum",
        "--horizon", "4", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    created_by = json.loads(result.stdout)["created_by"]
    assert created_by.startswith("os:") and len(created_by) > 3
    spoof = _ca(
        "promotion", "evaluate", json.loads(result.stdout)["candidate_id"], "--to", "candidate",
        "--actor", "someone-else",
    )  # fmt: skip
    assert spoof.exit_code == 2
    _one_error(spoof, "is not the authenticated principal")


def test_a_planted_config_is_announced_and_cannot_pin_the_clock(
    workspace: tuple[str, SeededRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, run = workspace
    monkeypatch.delenv("CRYPTO_ANALYZER_DB_URL")
    planted = Path("crypto-analyzer.toml")
    planted.write_text(f'db_url = "{url}"\nfixed_time = "2020-01-01T00:00:00Z"\n')
    reset_settings_cache()
    before = datetime.now(UTC) - timedelta(seconds=1)
    result = _ca(
        "promotion", "create", "--run", run.run_instance_id, "--signal", "momentum",
        "--horizon", "4", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    using = [line for line in result.stderr.splitlines() if line.startswith("using config")]
    assert len(using) == 1, result.stderr
    assert str(planted.resolve()) in using[0] and "database " in using[0]
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "fixed_time" in warning[0] and str(planted.resolve()) in warning[0]
    created = json.loads(result.stdout)
    assert from_iso(created["created_at"]) >= before  # the real clock, not 2020
