"""``promotion`` and ``audit`` commands through Typer's runner, in the golden-run order.

create → evaluate --to candidate → evaluate --to accepted (refused for the same principal, then
allowed for a second one) → list/show → audit trace → audit verify → revoke; plus exit codes and
one-line errors for misuse. Principals act through tokens (``CRYPTO_ANALYZER_TOKEN``) registered
with ``principals add``; ``--actor`` is no longer a free-form name.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from gov_workspace import SeededRun, seed_run
from typer.testing import CliRunner

from crypto_analyzer.artifacts import ArtifactStore, open_store
from crypto_analyzer.cli.audit import app as audit_app
from crypto_analyzer.cli.principals import app as principals_app
from crypto_analyzer.cli.promotion import app as promotion_app
from crypto_analyzer.core.settings import reset_settings_cache

runner = CliRunner()


@pytest.fixture
def workspace(
    sqlite_engine: sa.Engine, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, ArtifactStore, SeededRun]:
    store = open_store(f"file://{tmp_path / 'artifacts'}")
    run = seed_run(sqlite_engine, store)
    monkeypatch.setenv("CRYPTO_ANALYZER_ARTIFACTS", store.url)
    reset_settings_cache()
    return sqlite_url, store, run


def _promotion(*args: str) -> object:
    return runner.invoke(promotion_app, list(args))


def _tokens(url: str, *names: str) -> dict[str, str]:
    """An admin first (bootstrap), then each name as a reviewer; returns name -> token."""
    issued: dict[str, str] = {}
    for name in ("ops", *names):
        result = runner.invoke(
            principals_app,
            ["add", name, "--role", "admin" if name == "ops" else "reviewer", "--db", url],
            env={"CRYPTO_ANALYZER_TOKEN": issued.get("ops", "")},
        )
        assert result.exit_code == 0, result.output
        issued[name] = result.stdout.strip()
    return issued


def _as(token: str) -> dict[str, str]:
    return {"CRYPTO_ANALYZER_TOKEN": token}


def test_the_golden_flow_through_the_cli(workspace: tuple[str, ArtifactStore, SeededRun]) -> None:
    url, _, run = workspace
    tokens = _tokens(url, "alice", "bob", "rita")
    created = runner.invoke(
        promotion_app,
        [
            "create",
            "--run",
            run.run_instance_id,
            "--signal",
            "momentum",
            "--horizon",
            "4",
            "--actor",
            "alice",
            "--db",
            url,
            "--json",
        ],
        env=_as(tokens["alice"]),
    )
    assert created.exit_code == 0, created.output
    candidate = json.loads(created.stdout)["candidate_id"]

    first = runner.invoke(
        promotion_app,
        ["evaluate", candidate, "--to", "candidate", "--db", url],
        env=_as(tokens["alice"]),
    )
    assert first.exit_code == 0, first.output
    assert "passed" in first.stdout and "exploratory -> candidate" in first.stderr

    same = runner.invoke(
        promotion_app,
        ["evaluate", candidate, "--to", "accepted", "--db", url],
        env=_as(tokens["alice"]),
    )
    assert same.exit_code == 1, same.output
    assert "denied" in same.stdout and "duties.separation" in same.stdout
    assert "unchanged (candidate)" in same.stderr

    second = runner.invoke(
        promotion_app,
        ["evaluate", candidate, "--to", "accepted", "--db", url, "--json"],
        env=_as(tokens["bob"]),
    )
    assert second.exit_code == 0, second.output
    outcome = json.loads(second.stdout)
    assert outcome["candidate"]["status"] == "accepted" and outcome["passed"] is True

    listed = json.loads(runner.invoke(promotion_app, ["list", "--db", url, "--json"]).stdout)
    assert [item["status"] for item in listed] == ["accepted"]
    shown = runner.invoke(promotion_app, ["show", candidate[:12], "--db", url])
    assert shown.exit_code == 0, shown.output
    assert "eligibility reports" in shown.stdout and "duties.separation" not in shown.stdout
    shown_json = json.loads(
        runner.invoke(promotion_app, ["show", candidate, "--db", url, "--json"]).stdout
    )
    assert [r["passed"] for r in shown_json["reports"]] == [True, False, True]

    trace = runner.invoke(audit_app, ["trace", candidate, "--db", url, "--json"])
    assert trace.exit_code == 0, trace.output
    traced = json.loads(trace.stdout)
    assert traced["candidate"]["candidate_id"] == candidate and len(traced["events"]) == 4
    text = runner.invoke(audit_app, ["trace", candidate, "--db", url])
    assert text.exit_code == 0 and "bundle/momentum.json" in text.stdout
    assert "uses_dataset" in text.stdout and "duties.separation" in text.stdout

    verified = runner.invoke(audit_app, ["verify", "--db", url, "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["ok"] is True

    revoked = runner.invoke(
        promotion_app,
        ["revoke", candidate, "--reason", "capacity collapsed", "--db", url],
        env=_as(tokens["rita"]),
    )
    assert revoked.exit_code == 0 and "revoked" in revoked.stderr
    assert runner.invoke(audit_app, ["verify", "--db", url]).exit_code == 0


def test_verify_exits_1_with_findings(
    workspace: tuple[str, ArtifactStore, SeededRun], sqlite_engine: sa.Engine
) -> None:
    url, _, _ = workspace
    with sqlite_engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER trg_governance_events_no_update")
    result = runner.invoke(audit_app, ["verify", "--db", url])
    assert result.exit_code == 1
    assert "trg_governance_events_no_update" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["evaluate", "cand_missing00", "--to", "candidate"], 1, "no candidate matches"),
        (["evaluate", "cand_missing00", "--to", "Accepted"], 2, "evaluation level"),
        (["list", "--status", "ACCEPTED"], 2, "--status 'ACCEPTED'"),
        (
            ["create", "--run", "run-0001", "--signal", "nope", "--horizon", "4"],
            1,
            "no lineage row 'bundle/nope.json'",
        ),
        (["reject", "cand_missing00", "--reason", "x"], 1, "no candidate matches"),
        (
            ["evaluate", "cand_missing00", "--to", "candidate", "--actor", "a"],
            2,
            "--actor 'a' is not the authenticated principal",
        ),
    ],
    ids=[
        "unknown-candidate",
        "bad-level",
        "bad-status",
        "no-bundle",
        "reject-unknown",
        "actor-mismatch",
    ],
)
def test_misuse_is_one_clear_line(
    workspace: tuple[str, ArtifactStore, SeededRun], args: list[str], code: int, fragment: str
) -> None:
    url, _, _ = workspace
    result = runner.invoke(promotion_app, [*args, "--db", url])
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    # governed writes first say which config and database they use; then one error line
    lines = [line for line in lines if not line.startswith("using config")]
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0], lines
    assert "Traceback" not in result.output


def test_reject_of_an_accepted_candidate_says_to_revoke(
    workspace: tuple[str, ArtifactStore, SeededRun],
) -> None:
    url, _, run = workspace
    tokens = _tokens(url, "alice", "bob", "rita")
    created = runner.invoke(
        promotion_app,
        ["create", "--run", run.run_instance_id[:6], "--signal", "momentum", "--horizon", "1",
         "--db", url],
        env=_as(tokens["alice"]),
    )  # fmt: skip
    candidate = created.stdout.strip()
    for to, actor in (("candidate", "alice"), ("accepted", "bob")):
        step = runner.invoke(
            promotion_app, ["evaluate", candidate, "--to", to, "--db", url], env=_as(tokens[actor])
        )
        assert step.exit_code == 0, step.output
    result = runner.invoke(
        promotion_app,
        ["reject", candidate, "--reason", "nope", "--db", url],
        env=_as(tokens["rita"]),
    )
    assert result.exit_code == 1
    assert "revoked, not rejected" in result.stderr


def test_without_principals_the_actor_is_the_os_account(
    workspace: tuple[str, ArtifactStore, SeededRun],
) -> None:
    import os
    import pwd

    url, _, run = workspace
    spoofed = {"USER": "mallory", "LOGNAME": "mallory", "USERNAME": "mallory"}
    result = runner.invoke(
        promotion_app,
        ["create", "--run", run.run_instance_id, "--signal", "momentum", "--horizon", "4",
         "--db", url, "--json"],
        env=spoofed,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # the account of the process, not the self-declared USER/LOGNAME variables
    account = pwd.getpwuid(os.geteuid()).pw_name.casefold()
    assert json.loads(result.stdout)["created_by"] == f"os:{account}"
