"""The dashboard in a real browser (Python Playwright driving the system Chromium, headless)
against uvicorn on 127.0.0.1: the reviewer's acceptance flow, the researcher's limits, CSRF, no
console errors, pages without JavaScript, and basic accessibility. Screenshots go to
``test-artifacts/web/`` (git-ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from conftest import Served
from crypto_analyzer.governance import audit_verify, open_service

LAUNCH = {
    "executable_path": "/usr/bin/chromium",
    "args": [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
    ],
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**LAUNCH)
        yield launched
        launched.close()


class Console:
    """Console errors and uncaught page errors seen by a page."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))


def _login(context: BrowserContext, served: Served, role: str) -> tuple[Page, Console]:
    page = context.new_page()
    console = Console(page)
    page.goto(served.url("/web/runs"))
    assert page.url.startswith(served.url("/web/login"))
    page.get_by_label("API key").fill(served.workspace.tokens[role])
    page.get_by_label("Tenant").fill("default")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(served.url("/web/runs"))
    return page, console


def _pages(served: Served) -> list[str]:
    first, second = served.workspace.runs
    candidate = served.workspace.candidates["volume_shock"]
    return [
        "/web/runs",
        f"/web/runs/{first}",
        f"/web/compare?run={first}&run={second}",
        "/web/candidates",
        f"/web/candidates/{candidate}",
        "/web/timeline",
        "/web/audit",
        f"/web/lineage/{candidate}",
        "/web/data-health",
    ]


def test_reviewer_accepts_the_planted_candidate_through_the_ui(
    browser: Browser, served: Served, shots: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page, console = _login(context, served, "reviewer")
    first = served.workspace.runs[0]
    page.get_by_role("link", name=first).click()
    page.wait_for_url(served.url(f"/web/runs/{first}"))
    decay = page.locator('#ic-decay svg[data-chart="ic-decay"]')
    assert decay.count() == 1
    lines = decay.locator("polyline")
    assert lines.count() >= 5  # one line per signal
    assert all(
        len(points.split()) >= 2
        for points in lines.evaluate_all("nodes => nodes.map(n => n.getAttribute('points'))")
    )
    box = decay.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100
    assert "IC decay" in decay.locator(":scope > title").text_content() or ""
    page.screenshot(path=str(shots / "run-detail.png"), full_page=True)

    candidate = served.workspace.candidates["volume_shock"]
    page.goto(served.url(f"/web/candidates/{candidate}"))
    assert page.get_by_test_id("candidate-status").inner_text() == "candidate"
    page.screenshot(path=str(shots / "candidate-before.png"), full_page=True)
    page.get_by_test_id("accept").click()
    page.wait_for_url(f"**/web/candidates/{candidate}?notice=promoted")
    assert page.get_by_test_id("candidate-status").inner_text() == "accepted"
    rules = page.locator("table.rules").first
    assert rules.locator("tbody tr").count() >= 10
    page.screenshot(path=str(shots / "candidate-accepted.png"), full_page=True)

    page.get_by_role("link", name="Timeline").click()
    page.wait_for_url(served.url("/web/timeline"))
    assert page.get_by_test_id("chain-status").inner_text() == "verified"
    newest = page.locator("table tbody tr").first.inner_text()
    assert "reviewer" in newest and "promoted" in newest and "accepted" in newest
    assert candidate in newest
    page.screenshot(path=str(shots / "timeline.png"), full_page=True)
    context.close()
    assert console.errors == []
    with open_service(served.workspace.settings, read_only=True) as service:
        record = service.get(candidate)
        events = service.events(candidate)
    assert record.status == "accepted"
    assert events[-1].actor == "reviewer" and events[-1].to_status == "accepted"
    assert events[-1].payload["actor_source"] == "token"
    assert audit_verify(served.workspace.settings).ok


def test_researcher_has_no_accept_button_and_forged_posts_are_refused(
    browser: Browser, served: Served, shots: Path
) -> None:
    context = browser.new_context()
    page, console = _login(context, served, "researcher")
    candidate = served.workspace.candidates["momentum_24h"]
    page.goto(served.url(f"/web/candidates/{candidate}"))
    assert page.get_by_test_id("accept").count() == 0
    assert page.get_by_role("button", name="Reject").count() == 0
    assert page.get_by_role("button", name="Evaluate for candidate").count() == 1
    page.screenshot(path=str(shots / "candidate-researcher.png"), full_page=True)
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert token
    base = served.url(f"/web/candidates/{candidate}")
    forged = page.request.post(
        base + "/evaluate", form={"csrf_token": token, "target": "accepted"}, max_redirects=0
    )
    assert forged.status == 403 and "may not" in forged.text()
    reject = page.request.post(
        base + "/reject", form={"csrf_token": token, "reason": "x"}, max_redirects=0
    )
    assert reject.status == 403
    no_csrf = page.request.post(base + "/evaluate", form={"target": "candidate"}, max_redirects=0)
    assert no_csrf.status == 403 and "CSRF" in no_csrf.text()
    context.close()
    assert console.errors == []
    with open_service(served.workspace.settings, read_only=True) as service:
        assert service.get(candidate).status == "exploratory"
        assert [event.event_type for event in service.events(candidate)] == ["created", "evaluated"]


def test_no_console_errors_on_any_page(browser: Browser, served: Served, shots: Path) -> None:
    context = browser.new_context()
    page, console = _login(context, served, "admin")
    for path in _pages(served):
        answer = page.goto(served.url(path))
        assert answer is not None and answer.status == 200, path
        assert page.locator("h1").count() == 1, path
        name = path.strip("/").split("?")[0].replace("/", "_")[:60]
        page.screenshot(path=str(shots / f"page-{name}.png"), full_page=True)
    context.close()
    assert console.errors == []


def test_every_page_reads_without_javascript(browser: Browser, served: Served) -> None:
    context = browser.new_context(java_script_enabled=False)
    page, _console = _login(context, served, "reviewer")
    for path in _pages(served):
        page.goto(served.url(path))
        assert page.locator("h1").inner_text(), path
        assert page.locator("table tbody tr").count() >= 1, path
    page.goto(served.url(f"/web/runs/{served.workspace.runs[0]}"))
    assert page.locator("svg.chart").count() >= 4  # charts are server-rendered SVG
    assert page.locator("table").nth(1).locator("tbody tr").count() >= 10  # hypothesis table
    context.close()


_A11Y = """() => {
  const problems = [];
  const named = (el) => {
    if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')) return true;
    if (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) return true;
    return !!el.closest('label');
  };
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    if (!named(el)) problems.push(`unlabelled ${el.tagName} ${el.name}`);
  }
  for (const el of document.querySelectorAll('button')) {
    if (!el.textContent.trim() && !el.getAttribute('aria-label')) problems.push('unnamed button');
  }
  let last = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const level = Number(h.tagName[1]);
    if ((last === 0 && level !== 1) || level > last + 1) {
      problems.push(`heading ${h.tagName} after h${last}: ${h.textContent.trim()}`);
    }
    last = level;
  }
  for (const img of document.querySelectorAll('img')) {
    if (!(img.getAttribute('alt') || '').trim()) problems.push(`img without alt ${img.src}`);
  }
  for (const svg of document.querySelectorAll('svg')) {
    const ids = (svg.getAttribute('aria-labelledby') || '').split(' ').filter(Boolean);
    const text = ids.map((id) => (document.getElementById(id) || {}).textContent || '')
      .join(' ').trim();
    if (svg.getAttribute('role') !== 'img' || !text) problems.push('svg: no text alternative');
  }
  if (!document.documentElement.lang) problems.push('no lang');
  if (!document.title) problems.push('no title');
  return problems;
}"""


def test_accessibility_basics(browser: Browser, served: Served) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(served.url("/web/login"))
    found: dict[str, Any] = {"/web/login": page.evaluate(_A11Y)}
    page, _console = _login(context, served, "reviewer")
    for path in _pages(served):
        page.goto(served.url(path))
        found[path] = page.evaluate(_A11Y)
    context.close()
    assert {path: problems for path, problems in found.items() if problems} == {}
