"""``promotion`` and ``audit`` commands through Typer's runner, in the golden-run order.

create → evaluate --to candidate → evaluate --to accepted (refused for the same principal, then
allowed for a second one) → list/show → audit trace → audit verify → revoke; plus exit codes and
one-line errors for misuse.
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


def test_the_golden_flow_through_the_cli(workspace: tuple[str, ArtifactStore, SeededRun]) -> None:
    url, _, run = workspace
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
    )
    assert created.exit_code == 0, created.output
    candidate = json.loads(created.stdout)["candidate_id"]

    first = runner.invoke(
        promotion_app, ["evaluate", candidate, "--to", "candidate", "--actor", "alice", "--db", url]
    )
    assert first.exit_code == 0, first.output
    assert "passed" in first.stdout and "exploratory -> candidate" in first.stderr

    same = runner.invoke(
        promotion_app, ["evaluate", candidate, "--to", "accepted", "--actor", "alice", "--db", url]
    )
    assert same.exit_code == 1, same.output
    assert "denied" in same.stdout and "duties.separation" in same.stdout
    assert "unchanged (candidate)" in same.stderr

    second = runner.invoke(
        promotion_app,
        ["evaluate", candidate, "--to", "accepted", "--actor", "bob", "--db", url, "--json"],
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
        ["revoke", candidate, "--reason", "capacity collapsed", "--actor", "rita", "--db", url],
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
        (
            ["evaluate", "cand_missing00", "--to", "candidate", "--actor", "a"],
            1,
            "no candidate matches",
        ),
        (["evaluate", "cand_missing00", "--to", "Accepted", "--actor", "a"], 2, "evaluation level"),
        (["list", "--status", "ACCEPTED"], 2, "--status 'ACCEPTED'"),
        (
            ["create", "--run", "run-0001", "--signal", "nope", "--horizon", "4", "--actor", "a"],
            1,
            "no lineage row 'bundle/nope.json'",
        ),
        (["reject", "cand_missing00", "--reason", "x", "--actor", "a"], 1, "no candidate matches"),
    ],
    ids=["unknown-candidate", "bad-level", "bad-status", "no-bundle", "reject-unknown"],
)
def test_misuse_is_one_clear_line(
    workspace: tuple[str, ArtifactStore, SeededRun], args: list[str], code: int, fragment: str
) -> None:
    url, _, _ = workspace
    result = runner.invoke(promotion_app, [*args, "--db", url])
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0], lines
    assert "Traceback" not in result.output


def test_reject_of_an_accepted_candidate_says_to_revoke(
    workspace: tuple[str, ArtifactStore, SeededRun],
) -> None:
    url, _, run = workspace
    created = runner.invoke(
        promotion_app,
        [
            "create",
            "--run",
            run.run_instance_id[:6],
            "--signal",
            "momentum",
            "--horizon",
            "1",
            "--actor",
            "alice",
            "--db",
            url,
        ],
    )
    candidate = created.stdout.strip()
    for to, actor in (("candidate", "alice"), ("accepted", "bob")):
        step = runner.invoke(
            promotion_app, ["evaluate", candidate, "--to", to, "--actor", actor, "--db", url]
        )
        assert step.exit_code == 0, step.output
    result = runner.invoke(
        promotion_app, ["reject", candidate, "--reason", "nope", "--actor", "rita", "--db", url]
    )
    assert result.exit_code == 1
    assert "revoked, not rejected" in result.stderr


def test_the_default_actor_is_the_os_user(
    workspace: tuple[str, ArtifactStore, SeededRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    import getpass

    url, _, run = workspace
    monkeypatch.setattr(getpass, "getuser", lambda: "os-user")
    result = runner.invoke(
        promotion_app,
        [
            "create",
            "--run",
            run.run_instance_id,
            "--signal",
            "momentum",
            "--horizon",
            "4",
            "--db",
            url,
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created_by"] == "os-user"
