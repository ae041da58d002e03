"""The golden path through the API gives the CLI's decisions: create → evaluate to candidate
(researcher key) → the researcher cannot accept → accept (reviewer key) → trace → verify.

Two identical workspaces are seeded (same run, bundle, principals by name); one is driven by the
CLI with tokens in ``CRYPTO_ANALYZER_TOKEN``, the other over HTTP with the same roles' keys. The
candidate ids, every decision, the rules behind it, the policy digest, the status path and the
event trail must agree.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from api_server import ApiWorkspace, build_workspace
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app as cli
from crypto_analyzer.core.settings import reset_settings_cache

runner = CliRunner()


def _cli(workspace: ApiWorkspace, token: str, *args: str) -> tuple[int, Any]:
    env = {
        "CRYPTO_ANALYZER_TOKEN": token,
        "CRYPTO_ANALYZER_DB_URL": workspace.settings.db_url,
        "CRYPTO_ANALYZER_ARTIFACTS": workspace.settings.artifacts,
    }
    reset_settings_cache()  # the settings of this invocation come from ``env``
    result = runner.invoke(cli, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


def test_golden_flow_matches_the_cli(
    api: httpx.Client, workspace: ApiWorkspace, backend_url: str, tmp_path: Path
) -> None:
    del backend_url
    twin = build_workspace(f"sqlite:///{tmp_path / 'cli.sqlite'}", tmp_path / "cli")
    try:
        # CLI
        alice = twin.tokens[("default", "researcher")]
        code, created = _cli(twin, alice, "promotion", "create", "--run", "run-0001",
                             "--signal", "momentum", "--horizon", "1")  # fmt: skip
        assert code == 0
        cid = created["candidate_id"]
        code, to_candidate = _cli(twin, twin.tokens[("default", "researcher")], "promotion",
                                  "evaluate", cid, "--to", "candidate")  # fmt: skip
        assert code == 0
        reset_settings_cache()
        refused = runner.invoke(cli, ["promotion", "evaluate", cid, "--to", "accepted"], env={
            "CRYPTO_ANALYZER_TOKEN": twin.tokens[("default", "researcher")],
            "CRYPTO_ANALYZER_DB_URL": twin.settings.db_url,
            "CRYPTO_ANALYZER_ARTIFACTS": twin.settings.artifacts})  # fmt: skip
        assert refused.exit_code == 1 and "may not" in refused.output
        code, to_accepted = _cli(twin, twin.tokens[("default", "reviewer")], "promotion",
                                 "evaluate", cid, "--to", "accepted")  # fmt: skip
        assert code == 0
        code, cli_trace = _cli(twin, "", "audit", "trace", cid)
        assert code == 0
        code, cli_verify = _cli(twin, "", "audit", "verify")
        assert code == 0 and cli_verify["ok"] is True
    finally:
        twin.engine.dispose()

    # API
    def post(role: str, path: str, body: dict[str, Any]) -> httpx.Response:
        headers = workspace.headers("default", role, **{"Idempotency-Key": uuid.uuid4().hex})
        return api.post(path, json=body, headers=headers)

    made = post("researcher", "/promotion/candidates",
                {"horizon": 1, "run_instance_id": "run-0001", "signal": "momentum"})  # fmt: skip
    assert made.status_code == 201 and made.json()["candidate_id"] == cid
    assert made.json()["status"] == created["status"] == "exploratory"
    first = post("researcher", f"/promotion/candidates/{cid}/evaluate", {"target": "candidate"})
    assert first.status_code == 200
    denied = post("researcher", f"/promotion/candidates/{cid}/evaluate", {"target": "accepted"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    second = post("reviewer", f"/promotion/candidates/{cid}/evaluate", {"target": "accepted"})
    assert second.status_code == 200
    for mine, theirs in ((first.json(), to_candidate), (second.json(), to_accepted)):
        assert (mine["allowed"], mine["status"]) == (
            theirs["passed"],
            theirs["candidate"]["status"],
        )
        assert [r["rule"] for r in mine["reasons"]] == [
            r["rule"] for r in theirs["report"]["reasons"]
        ]
        assert mine["policy_digest"] == theirs["report"]["policy_digest"]
        assert mine["previous_status"] == theirs["previous_status"]
        assert mine["eligibility_report_id"] == theirs["report"]["report_id"]
    assert second.json()["status"] == "accepted" and second.json()["allowed"] is True

    reader = workspace.headers("default", "reviewer")
    trace = api.get(f"/audit/candidates/{cid}/trace", headers=reader)
    assert trace.status_code == 200

    def trail(document: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [(e["event_type"], e["from_status"], e["to_status"], e["actor"],
                 e["payload"]["actor_source"]) for e in document["events"]]  # fmt: skip

    assert trail(trace.json()) == trail(cli_trace)
    assert trail(trace.json())[-1][:3] == ("promoted", "candidate", "accepted")
    verify = api.get("/audit/verify", headers=reader)
    assert verify.status_code == 200 and verify.json()["ok"] is True, verify.text
    allow = api.get("/latest/allowlist", headers=reader).json()["items"]
    assert [item["candidate_id"] for item in allow] == [cid]
