"""Idempotency-Key on POST: a replay returns the stored response and writes no second event; the
same key with another request is a 409; concurrent requests with one key have one effect."""

from __future__ import annotations

import threading
import uuid

import httpx
from api_server import ApiWorkspace


def _create(api: httpx.Client, workspace: ApiWorkspace, key: str, horizon: int = 1):
    return api.post(
        "/promotion/candidates",
        json={"horizon": horizon, "run_instance_id": "run-0001", "signal": "momentum"},
        headers=workspace.headers("default", "researcher", **{"Idempotency-Key": key}),
    )


def test_replay_returns_the_stored_response_without_a_second_event(
    api: httpx.Client, workspace: ApiWorkspace
) -> None:
    first = _create(api, workspace, "create-1")
    assert first.status_code == 201, first.text
    events = workspace.count("governance_events")
    replay = _create(api, workspace, "create-1")
    assert replay.status_code == 201
    assert replay.content == first.content
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert workspace.count("governance_events") == events
    # a new key for the same request is a new attempt: the service refuses a second candidate
    again = _create(api, workspace, "create-2")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "candidate_exists"
    # …and that refusal is replayed as stored, too
    assert _create(api, workspace, "create-2").content == again.content


def test_same_key_with_another_body_is_a_conflict(
    api: httpx.Client, workspace: ApiWorkspace
) -> None:
    assert _create(api, workspace, "k-conflict").status_code == 201
    conflict = _create(api, workspace, "k-conflict", horizon=4)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_key_reused"
    assert workspace.count("promotion_candidates") == 1
    # another path with the same key is another request as well
    cid = _create(api, workspace, "k-conflict").json()["candidate_id"]
    other_path = api.post(
        f"/promotion/candidates/{cid}/evaluate",
        json={"target": "candidate"},
        headers=workspace.headers("default", "researcher", **{"Idempotency-Key": "k-conflict"}),
    )
    assert other_path.status_code == 409
    assert workspace.count("eligibility_reports") == 0


def test_keys_belong_to_their_principal(api: httpx.Client, workspace: ApiWorkspace) -> None:
    assert _create(api, workspace, "shared").status_code == 201
    by_reviewer = api.post(
        "/promotion/candidates",
        json={"horizon": 4, "run_instance_id": "run-0001", "signal": "momentum"},
        headers=workspace.headers("default", "reviewer", **{"Idempotency-Key": "shared"}),
    )
    assert by_reviewer.status_code == 201, by_reviewer.text
    assert workspace.count("promotion_candidates") == 2


def test_concurrent_replays_of_one_key_have_one_effect(
    api: httpx.Client, workspace: ApiWorkspace
) -> None:
    cid = _create(api, workspace, uuid.uuid4().hex).json()["candidate_id"]
    reports, events = workspace.count("eligibility_reports"), workspace.count("governance_events")
    base = str(api.base_url)
    barrier = threading.Barrier(6)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def evaluate() -> None:
        with httpx.Client(base_url=base, timeout=60) as own:
            barrier.wait()
            response = own.post(
                f"/promotion/candidates/{cid}/evaluate",
                json={"target": "candidate"},
                headers=workspace.headers("default", "researcher", **{"Idempotency-Key": "race"}),
            )
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=evaluate) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [response.status_code for response in answers] == [200] * 6
    assert len({response.content for response in answers}) == 1
    assert answers[0].json()["allowed"] is True
    assert sum(response.headers.get("Idempotent-Replayed") == "true" for response in answers) == 5
    assert workspace.count("eligibility_reports") == reports + 1
    assert workspace.count("governance_events") == events + 1


def test_every_post_needs_a_key(api: httpx.Client, workspace: ApiWorkspace) -> None:
    response = api.post(
        "/promotion/candidates",
        json={"horizon": 1, "run_instance_id": "run-0001", "signal": "momentum"},
        headers=workspace.headers("default", "researcher"),
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["error"]["message"]
    assert workspace.count("promotion_candidates") == 0
