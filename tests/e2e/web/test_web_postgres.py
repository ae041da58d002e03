"""The dashboard over a PostgreSQL workspace: read pages, then the reviewer's acceptance through
the form, with the same checks as on SQLite (``test_web_http.py``, ``test_web_browser.py``)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from web_workspace import seed_web_workspace

from conftest import login, serve
from crypto_analyzer.governance import audit_verify, open_service


@pytest.mark.postgres
def test_reviewer_accepts_on_postgresql(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "service.key"
    monkeypatch.setenv("CRYPTO_ANALYZER_SERVICE_KEY_FILE", str(key))
    workspace = seed_web_workspace(tmp_path / "ws", db_url=postgres_url, service_key=key)
    candidate = workspace.candidates["volume_shock"]
    with serve(workspace) as served, httpx.Client(timeout=60) as client:
        login(client, served, "reviewer")
        run = client.get(served.url(f"/web/runs/{workspace.runs[0]}"))
        assert run.status_code == 200 and 'data-chart="ic-decay"' in run.text
        page = client.get(served.url(f"/web/candidates/{candidate}"))
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = client.post(
            served.url(f"/web/candidates/{candidate}/evaluate"),
            data={"csrf_token": token, "target": "accepted"},
        )
        assert answer.status_code == 303
        assert answer.headers["location"].endswith("notice=promoted")
        timeline = client.get(served.url("/web/timeline")).text
        assert 'data-testid="chain-status">verified<' in timeline
        health = client.get(served.url("/web/data-health"))
        assert health.status_code == 200 and "synthetic" in health.text
    with open_service(workspace.settings, read_only=True) as service:
        assert service.get(candidate).status == "accepted"
    assert audit_verify(workspace.settings).ok
