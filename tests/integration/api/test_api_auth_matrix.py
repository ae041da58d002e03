"""Every route × {researcher, reviewer, admin} × {own tenant, other tenant, no key, bad key,
revoked key} → the expected status, and no other tenant's data in any body.

The tenant comes only from the key: the "other tenant" keys address the default tenant's
candidate and run by id and must see nothing (404), and their lists must hold none of it. Writes
in the own tenant address ids that do not exist, so an allowed role gets 404 and a refused role
403 — the role is decided before anything is looked up or reserved.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from api_server import ROLES, ApiWorkspace

BAD_KEY = "ca_" + "x" * 43
GHOST = "cand_00000000deadbeef"

# route: (method, path template, body, action needing a role or None for any role)
READS: list[tuple[str, bool]] = [
    # (path, addresses a default-tenant object by id)
    ("/latest/allowlist", False),
    ("/experiments", False),
    ("/experiments/{run}", True),
    ("/metrics/ic_mean/history", False),
    ("/reports/latest", False),
    ("/runs/{run}/artifacts/bundle/momentum.json", True),
    ("/promotion/candidates", False),
    ("/promotion/candidates/{cand}", True),
    ("/audit/candidates/{cand}/trace", True),
    ("/audit/verify", False),
]
WRITES: list[tuple[str, dict[str, Any], str]] = [
    ("/promotion/candidates", {"horizon": 1, "run_instance_id": "{run}", "signal": "momentum"},
     "create"),
    ("/promotion/candidates/{cand}/evaluate", {"target": "candidate"}, "evaluate:candidate"),
    ("/promotion/candidates/{cand}/evaluate", {"target": "accepted"}, "evaluate:accepted"),
    ("/promotion/candidates/{cand}/reject", {"reason": "matrix"}, "reject"),
    ("/promotion/candidates/{cand}/revoke", {"reason": "matrix"}, "revoke"),
]  # fmt: skip
ALLOWED = {
    "create": {"researcher", "reviewer", "admin"},
    "evaluate:candidate": {"researcher", "reviewer", "admin"},
    "evaluate:accepted": {"reviewer", "admin"},
    "reject": {"reviewer", "admin"},
    "revoke": {"reviewer", "admin"},
}


def _fill(text: str, run: str, cand: str) -> str:
    return text.replace("{run}", run).replace("{cand}", cand)


def _body(body: dict[str, Any], run: str) -> dict[str, Any]:
    return {key: _fill(value, run, "") if isinstance(value, str) else value
            for key, value in body.items()}  # fmt: skip


def _post(api: httpx.Client, path: str, body: dict[str, Any], auth: dict[str, str]) -> Any:
    headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
    return api.post(path, json=body, headers=headers)


def test_auth_matrix(api: httpx.Client, workspace: ApiWorkspace) -> None:
    own_run = workspace.runs["default"].run_instance_id
    other_run = workspace.runs["other"].run_instance_id
    made = {}
    for tenant, run in (("default", own_run), ("other", other_run)):
        created = _post(
            api,
            "/promotion/candidates",
            {"horizon": 1, "run_instance_id": run, "signal": "momentum"},
            workspace.headers(tenant, "researcher"),
        )
        assert created.status_code == 201, created.text
        made[tenant] = created.json()["candidate_id"]
    own_cand, other_cand = made["default"], made["other"]
    checked = 0

    # no key, bad key, revoked key: 401 everywhere (with the error model), except /health
    for auth in ({}, {"Authorization": f"Bearer {BAD_KEY}"},
                 {"Authorization": f"Bearer {workspace.revoked}"},
                 {"Authorization": "Basic dXNlcjpwYXNz"}):  # fmt: skip
        for path, _ in READS:
            response = api.get(_fill(path, own_run, own_cand), headers=auth)
            assert response.status_code == 401, (path, auth, response.text)
            assert response.json()["error"]["code"] == "unauthenticated"
            assert response.headers["WWW-Authenticate"] == "Bearer"
            checked += 1
        for path, body, _action in WRITES:
            response = _post(api, _fill(path, own_run, own_cand), _body(body, own_run), auth)
            assert response.status_code == 401, (path, auth, response.text)
            checked += 1
        assert api.get("/health", headers=auth).status_code == 200

    for role in ROLES:
        own = workspace.headers("default", role)
        other = workspace.headers("other", role)
        for path, by_id in READS:
            mine = api.get(_fill(path, own_run, own_cand), headers=own)
            assert mine.status_code == 200, (role, path, mine.text)
            assert other_run not in mine.text and other_cand not in mine.text, (role, path)
            theirs = api.get(_fill(path, own_run, own_cand), headers=other)
            assert theirs.status_code == (404 if by_id else 200), (role, path, theirs.text)
            if by_id:  # the refusal only echoes the id the caller sent, nothing about it
                assert set(theirs.json()) == {"error"}, theirs.text
            else:
                assert own_run not in theirs.text and own_cand not in theirs.text, (role, path)
            checked += 2
        for path, body, action in WRITES:
            expected = 404 if role in ALLOWED[action] else 403
            # own tenant, an id that does not exist: decided by role alone
            ghost_run = "run-ghost-0000"
            mine = _post(api, _fill(path, ghost_run, GHOST), _body(body, ghost_run), own)
            assert mine.status_code == expected, (role, path, body, mine.text)
            code = mine.json()["error"]["code"]
            assert code == ("not_found" if expected == 404 else "forbidden")
            # other tenant addressing the default tenant's real candidate and run: invisible
            theirs = _post(api, _fill(path, own_run, own_cand), _body(body, own_run), other)
            assert theirs.status_code == expected, (role, path, body, theirs.text)
            assert set(theirs.json()) == {"error"}, theirs.text
            checked += 2
    # nothing the matrix sent changed the default tenant's candidate
    detail = api.get(
        f"/promotion/candidates/{own_cand}", headers=workspace.headers("default", "admin")
    )
    assert detail.json()["candidate"]["status"] == "exploratory"
    assert [event["event_type"] for event in detail.json()["events"]] == ["created"]
    assert checked == 4 * (len(READS) + len(WRITES)) + 3 * 2 * (len(READS) + len(WRITES))
