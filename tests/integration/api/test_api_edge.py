"""The HTTP edge: body limit (413), rate limit (429 + Retry-After), strict models (422 naming the
field), request ids and the access log, CORS off unless configured, health 503, artifact ranges
and digests, no DDL on any request, and errors that never carry a trace."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from api_server import ApiWorkspace, serve

from crypto_analyzer.api import ApiConfig


def _post(api: httpx.Client, workspace: ApiWorkspace, body: Any, **headers: str):
    auth = workspace.headers("default", "researcher", **{"Idempotency-Key": "edge", **headers})
    return api.post("/promotion/candidates", json=body, headers=auth)


def test_body_limit_is_413(workspace: ApiWorkspace) -> None:
    config = ApiConfig(max_body_bytes=256)
    with serve(workspace.settings, config) as (base, _app), httpx.Client(base_url=base) as api:
        big = {"horizon": 1, "run_instance_id": "run-0001", "signal": "m" * 400}
        declared = _post(api, workspace, big)
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "body_too_large"
        assert declared.headers["X-Request-ID"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            yield b'{"signal": "'
            for _ in range(10):
                yield b"m" * 100
            yield b'", "horizon": 1, "run_instance_id": "run-0001"}'

        headers = workspace.headers(
            "default",
            "researcher",
            **{"Idempotency-Key": "edge2", "Content-Type": "application/json"},
        )
        streamed = api.post("/promotion/candidates", content=chunks(), headers=headers)
        assert streamed.status_code == 413, streamed.text
        assert streamed.json()["error"]["code"] == "body_too_large"
    assert workspace.count("promotion_candidates") == 0


def test_rate_limit_is_429_with_retry_after(workspace: ApiWorkspace) -> None:
    config = ApiConfig(rate_per_minute=6, burst=2)
    with serve(workspace.settings, config) as (base, _app), httpx.Client(base_url=base) as api:
        researcher = workspace.headers("default", "researcher")
        statuses = [api.get("/experiments", headers=researcher).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = api.get("/experiments", headers=researcher)
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 10
        # per key: another key of the same tenant is not slowed down
        assert (
            api.get("/experiments", headers=workspace.headers("default", "reviewer")).status_code
            == 200
        )


def test_strict_request_models_name_the_field(api: httpx.Client, workspace: ApiWorkspace) -> None:
    extra = _post(
        api,
        workspace,
        {"horizon": 1, "run_instance_id": "run-0001", "signal": "m", "tenant_id": "other"},
    )
    assert extra.status_code == 422
    assert "tenant_id" in extra.json()["error"]["message"]
    typed = _post(
        api,
        workspace,
        {"horizon": "1", "run_instance_id": "run-0001", "signal": "m"},
        **{"Idempotency-Key": "t2"},
    )
    assert typed.status_code == 422 and "horizon" in typed.json()["error"]["message"]
    level = api.post(
        "/promotion/candidates/cand_0000000000000000/evaluate",
        json={"target": "production"},
        headers=workspace.headers("default", "reviewer", **{"Idempotency-Key": "t3"}),
    )
    assert level.status_code == 422 and "target" in level.json()["error"]["message"]
    not_json = api.post(
        "/promotion/candidates",
        content=b"{not json",
        headers=workspace.headers(
            "default", "researcher", **{"Idempotency-Key": "t4", "Content-Type": "application/json"}
        ),
    )
    assert not_json.status_code == 422 and set(not_json.json()) == {"error"}
    assert workspace.count("promotion_candidates") == 0


def test_request_id_and_access_log(
    api: httpx.Client, workspace: ApiWorkspace, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="crypto_analyzer.api.access"):
        kept = api.get(
            "/experiments",
            headers=workspace.headers("default", "reviewer", **{"X-Request-ID": "trace-42"}),
        )
        made = api.get("/nowhere", headers={"X-Request-ID": "bad id with spaces"})
    assert kept.headers["X-Request-ID"] == "trace-42"
    assert made.status_code == 404 and made.json()["error"]["code"] == "not_found"
    assert made.headers["X-Request-ID"] != "bad id with spaces"
    lines = [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "crypto_analyzer.api.access"
    ]
    mine = next(line for line in lines if line["request_id"] == "trace-42")
    assert mine["status"] == 200 and mine["path"] == "/experiments"
    assert (
        mine["key_id"] == workspace.key_ids[("default", "reviewer")] and mine["tenant"] == "default"
    )
    assert any(
        line["request_id"] == made.headers["X-Request-ID"] and line["status"] == 404
        for line in lines
    )
    token = workspace.tokens[("default", "reviewer")]
    assert all(token not in record.getMessage() for record in caplog.records)


def test_cors_is_off_unless_configured(workspace: ApiWorkspace) -> None:
    origin = {"Origin": "https://dash.example"}
    with serve(workspace.settings) as (base, _app), httpx.Client(base_url=base) as api:
        assert "access-control-allow-origin" not in api.get("/health", headers=origin).headers
    config = ApiConfig(cors_origins=("https://dash.example",))
    with serve(workspace.settings, config) as (base, _app), httpx.Client(base_url=base) as api:
        allowed = api.get("/health", headers=origin)
        assert allowed.headers["access-control-allow-origin"] == "https://dash.example"
        other = api.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_health_names_what_failed(workspace: ApiWorkspace, tmp_path: Path) -> None:
    with serve(workspace.settings) as (base, _app), httpx.Client(base_url=base) as api:
        assert api.get("/health").json()["ok"] is True
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    broken = workspace.settings.model_copy(update={"artifacts": f"file://{blocker}"})
    with serve(broken) as (base, _app), httpx.Client(base_url=base) as api:
        response = api.get("/health")
    assert response.status_code == 503
    failed = [check["name"] for check in response.json()["checks"] if not check["ok"]]
    assert failed == ["artifact store"]


def test_artifact_digest_etag_and_ranges(api: httpx.Client, workspace: ApiWorkspace) -> None:
    auth = workspace.headers("default", "reviewer")
    path = "/runs/run-0001/artifacts/bundle/momentum.json"
    full = api.get(path, headers=auth)
    assert full.status_code == 200
    digest = hashlib.sha256(full.content).digest()
    assert full.content == workspace.store.get(workspace.runs["default"].bundle_key)
    assert full.headers["ETag"] == f'"{digest.hex()}"'
    assert full.headers["Digest"] == "sha-256=" + base64.b64encode(digest).decode()
    part = api.get(path, headers={**auth, "Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == full.content[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(full.content)}"
    tail = api.get(path, headers={**auth, "Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == full.content[-5:]
    outside = api.get(path, headers={**auth, "Range": f"bytes={len(full.content)}-"})
    assert outside.status_code == 416 and outside.json()["error"]["code"] == "range_not_satisfiable"
    assert api.get(path, headers={**auth, "Range": "lines=1-2"}).status_code == 400
    cached = api.get(path, headers={**auth, "If-None-Match": full.headers["ETag"]})
    assert cached.status_code == 304 and cached.content == b""
    # bytes that no longer match what the run recorded are never served
    stored = (
        Path(workspace.store.url.removeprefix("file://")) / workspace.runs["default"].bundle_key
    )
    stored.chmod(0o644)
    stored.write_bytes(full.content + b" ")
    tampered = api.get(path, headers=auth)
    assert tampered.status_code == 503
    assert tampered.json()["error"]["code"] == "artifact_store_unavailable"
    assert "Traceback" not in tampered.text


def test_no_ddl_on_any_request(workspace: ApiWorkspace) -> None:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.lstrip().split(None, 1)[0].upper())

    with serve(workspace.settings) as (base, app), httpx.Client(base_url=base) as api:
        for engine in (app.state.api.reader, app.state.api.writer):
            sa.event.listen(engine, "before_cursor_execute", record)
        researcher = workspace.headers("default", "researcher")
        for path in ("/health", "/experiments", "/promotion/candidates", "/audit/verify",
                     "/latest/allowlist", "/reports/latest"):  # fmt: skip
            assert api.get(path, headers=researcher).status_code == 200
        created = api.post(
            "/promotion/candidates",
            json={"horizon": 1, "run_instance_id": "run-0001", "signal": "momentum"},
            headers={**researcher, "Idempotency-Key": "ddl"},
        )
        assert created.status_code == 201
        cid = created.json()["candidate_id"]
        evaluated = api.post(
            f"/promotion/candidates/{cid}/evaluate",
            json={"target": "candidate"},
            headers={**researcher, "Idempotency-Key": "ddl2"},
        )
        assert evaluated.status_code == 200
    assert statements, "the listener saw nothing"
    assert {"INSERT", "SELECT"} <= set(statements)
    assert not {"CREATE", "ALTER", "DROP", "TRUNCATE"} & set(statements), set(statements)
