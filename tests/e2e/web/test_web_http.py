"""The dashboard over plain HTTP (httpx against uvicorn on 127.0.0.1): login, sessions, CSRF,
roles, tenant scoping, artifact bytes. The browser tests are in ``test_web_browser.py``."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest
from web_workspace import OTHER_TENANT

from conftest import Served, login
from crypto_analyzer.governance import disable_principal, open_service

PAGES = ("/web/runs", "/web/candidates", "/web/timeline", "/web/audit", "/web/data-health")


def _client() -> httpx.Client:
    return httpx.Client(follow_redirects=False, timeout=30)


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _status(served: Served, signal: str) -> str:
    with open_service(served.workspace.settings, read_only=True) as service:
        return service.get(served.workspace.candidates[signal]).status


def test_pages_need_a_login(served: Served) -> None:
    with _client() as client:
        for path in (*PAGES, f"/web/runs/{served.workspace.runs[0]}"):
            answer = client.get(served.url(path))
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/web/login?next=")


def test_every_page_renders_for_a_logged_in_researcher(served: Served) -> None:
    first, second = served.workspace.runs
    candidate = served.workspace.candidates["volume_shock"]
    paths = (
        *PAGES,
        f"/web/runs/{first}",
        f"/web/compare?run={first}&run={second}",
        f"/web/candidates/{candidate}",
        f"/web/lineage/{candidate}",
    )
    with _client() as client:
        login(client, served, "researcher")
        for path in paths:
            answer = client.get(served.url(path))
            assert answer.status_code == 200, (path, answer.text[:2000])
            assert "<h1>" in answer.text and "Traceback" not in answer.text
            assert answer.headers["content-security-policy"].startswith("default-src 'self'")


def test_session_cookie_is_httponly_strict_and_opaque(served: Served) -> None:
    with _client() as client:
        page = client.get(served.url("/web/login"))
        answer = client.post(
            served.url("/web/login"),
            data={
                "api_key": served.workspace.tokens["reviewer"],
                "tenant": "default",
                "csrf_token": _csrf(page.text),
            },
        )
        cookie = answer.headers["set-cookie"]
        assert "ca_session=" in cookie and "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert "Secure" not in cookie  # plain HTTP here; Secure is set behind TLS
        assert served.workspace.tokens["reviewer"] not in cookie


def test_login_refuses_a_bad_key_and_a_missing_login_csrf(served: Served) -> None:
    with _client() as client:
        page = client.get(served.url("/web/login"))
        bad = client.post(
            served.url("/web/login"),
            data={"api_key": "ca_" + "x" * 43, "tenant": "default", "csrf_token": _csrf(page.text)},
        )
        assert bad.status_code == 401 and "not valid" in bad.text
        assert "ca_session" not in bad.headers.get("set-cookie", "")
        forged = client.post(
            served.url("/web/login"),
            data={"api_key": served.workspace.tokens["reviewer"], "tenant": "default"},
        )
        assert forged.status_code == 403


def test_other_tenant_key_does_not_log_in(served: Served) -> None:
    with _client() as client:
        page = client.get(served.url("/web/login"))
        answer = client.post(
            served.url("/web/login"),
            data={
                "api_key": served.workspace.tokens["reviewer"],
                "tenant": "other",
                "csrf_token": _csrf(page.text),
            },
        )
        assert answer.status_code == 401


def test_researcher_sees_no_accept_button_and_a_forged_accept_is_403(served: Served) -> None:
    candidate = served.workspace.candidates["volume_shock"]
    with _client() as client:
        login(client, served, "researcher")
        page = client.get(served.url(f"/web/candidates/{candidate}"))
        assert page.status_code == 200
        assert 'value="accepted"' not in page.text and "Evaluate and accept" not in page.text
        assert "/reject" not in page.text
        forged = client.post(
            served.url(f"/web/candidates/{candidate}/evaluate"),
            data={"csrf_token": _csrf(page.text), "target": "accepted"},
        )
        assert forged.status_code == 403, forged.text
        assert "may not" in forged.text
        rejected = client.post(
            served.url(f"/web/candidates/{candidate}/reject"),
            data={"csrf_token": _csrf(page.text), "reason": "no"},
        )
        assert rejected.status_code == 403
    assert _status(served, "volume_shock") == "candidate"


def test_post_without_csrf_or_from_another_origin_is_refused(served: Served) -> None:
    candidate = served.workspace.candidates["momentum_24h"]
    with _client() as client:
        login(client, served, "reviewer")
        page = client.get(served.url(f"/web/candidates/{candidate}"))
        for data in ({"reason": "noise"}, {"reason": "noise", "csrf_token": "forged"}):
            answer = client.post(served.url(f"/web/candidates/{candidate}/reject"), data=data)
            assert answer.status_code == 403 and "CSRF" in answer.text
        other = client.post(
            served.url(f"/web/candidates/{candidate}/reject"),
            data={"reason": "noise", "csrf_token": _csrf(page.text)},
            headers={"Origin": "http://evil.example"},
        )
        assert other.status_code == 403
    assert _status(served, "momentum_24h") == "exploratory"


def test_unauthenticated_post_is_refused(served: Served) -> None:
    candidate = served.workspace.candidates["volume_shock"]
    with _client() as client:
        answer = client.post(
            served.url(f"/web/candidates/{candidate}/evaluate"),
            data={"target": "accepted", "csrf_token": "x"},
        )
        assert answer.status_code == 401
    assert _status(served, "volume_shock") == "candidate"


def test_artifact_bytes_match_their_sha256(served: Served) -> None:
    run = served.workspace.runs[0]
    with _client() as client:
        login(client, served, "researcher")
        page = client.get(served.url(f"/web/runs/{run}")).text
        links = re.findall(rf'href="/web/runs/{run}/artifacts/([^"]+)"', page)
        assert "config.json" in links and "stats/overview.json" in links
        for name in ("config.json", "ic/summary.json", "figures/ic_decay.png"):
            answer = client.get(served.url(f"/web/runs/{run}/artifacts/{name}"))
            assert answer.status_code == 200
            digest = hashlib.sha256(answer.content).hexdigest()
            assert answer.headers["etag"] == f'"{digest}"' and digest in page
        missing = client.get(served.url(f"/web/runs/{run}/artifacts/../../workspace.sqlite"))
        assert missing.status_code == 404


@pytest.mark.parametrize("query", ["status=succeeded", "q=wider", "sort=oldest", "page=1"])
def test_runs_list_filters_sorts_and_pages(served: Served, query: str) -> None:
    first, second = served.workspace.runs
    with _client() as client:
        login(client, served, "researcher")
        text = client.get(served.url(f"/web/runs?{query}")).text
    if query == "q=wider":
        assert second in text and first not in text
    elif query == "sort=oldest":
        assert text.index(first) < text.index(second)
    else:
        assert first in text and second in text and text.index(second) < text.index(first)


def test_compare_shows_the_config_difference(served: Served) -> None:
    first, second = served.workspace.runs
    with _client() as client:
        login(client, served, "researcher")
        text = client.get(served.url(f"/web/compare?run={first}&run={second}")).text
        one = client.get(served.url(f"/web/compare?run={first}"))
    assert '<td class="mono">horizons</td><td>[1, 4]</td><td>[1, 2, 4]</td>' in text
    assert "volume_shock@2" in text  # only the second run tested horizon 2
    assert one.status_code == 400 and "2 to 6 runs" in one.text


def test_another_tenant_sees_none_of_this_tenants_records(served: Served) -> None:
    run = served.workspace.runs[0]
    candidate = served.workspace.candidates["volume_shock"]
    with _client() as client:
        login(client, served, "other-admin", tenant=OTHER_TENANT)
        listing = client.get(served.url("/web/runs"))
        assert listing.status_code == 200 and "0 runs" in listing.text and run not in listing.text
        assert candidate not in client.get(served.url("/web/candidates")).text
        assert "No events yet." in client.get(served.url("/web/timeline")).text
        for path in (
            f"/web/runs/{run}",
            f"/web/runs/{run}/artifacts/config.json",
            f"/web/candidates/{candidate}",
            f"/web/lineage/{candidate}",
        ):
            answer = client.get(served.url(path))
            assert answer.status_code == 404, path
            assert candidate not in answer.text or path.endswith(candidate)
        page = client.get(served.url("/web/candidates"))
        forged = client.post(
            served.url(f"/web/candidates/{candidate}/reject"),
            data={"csrf_token": _csrf(page.text), "reason": "x"},
        )
        assert forged.status_code == 404
    assert _status(served, "volume_shock") == "candidate"


def test_a_disabled_principal_loses_the_session_at_the_next_click(served: Served) -> None:
    with _client() as client:
        login(client, served, "auditor")
        assert client.get(served.url("/web/candidates")).status_code == 200
        disable_principal(
            served.workspace.settings, "auditor", token=served.workspace.tokens["admin"]
        )
        answer = client.get(served.url("/web/candidates"))
        assert answer.status_code == 303 and answer.headers["location"].startswith("/web/login")
