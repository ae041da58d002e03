"""The demo report in a real browser: verdict first, identical to the governance decisions, every
figure present, no console errors; a screenshot is kept as a test artifact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto_analyzer.artifacts import open_store
from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.governance import open_service
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig
from crypto_analyzer.pipeline.demo import DEMO_REPORT, run_demo

MARKET = SyntheticMarketConfig(assets=16, days=150, seed=11, planted_ic=0.1)
REPORT = {
    **DEMO_REPORT,
    "horizons": [1],
    "min_assets": 10,
    "factor_window": 240,
    "splits": {"test_size": 480, "min_train_size": 960, "embargo": 4},
    "procedures": {"bootstrap_reps": 400, "pbo_blocks": 8},
    "portfolio": {**DEMO_REPORT["portfolio"], "k": 3},
}
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu"]


def test_demo_report_opens_with_the_governance_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-01-01T00:00:00Z")
    reset_settings_cache()
    demo = run_demo(tmp_path / "demo", MARKET, report=REPORT)
    assert demo.report is not None
    run = demo.report.run_instance_id
    store = open_store(demo.settings.artifacts)
    verdict = json.loads(store.get(f"runs/{run}/verdict.json"))
    rows = {row["signal"]: row for row in verdict["hypotheses"]}

    # the planted signal passes, every noise signal is denied with the rules it failed
    assert rows["volume_shock"]["allowed"] is True
    noise = [signal for signal in rows if signal != "volume_shock"]
    assert noise and all(not rows[s]["allowed"] and rows[s]["failed_rules"] for s in noise)
    # ... exactly as governance decided at level "candidate" for the demo's candidates
    with open_service(demo.settings, read_only=True) as service:
        for outcome in demo.candidates:
            first = next(r for r in service.reports(outcome.candidate_id) if r.level == "candidate")
            row = rows[outcome.signal]
            assert first.passed is row["allowed"], outcome.signal
            assert list(first.reasons) == row["reasons"]
            assert first.policy_digest == verdict["policy"]["digest"]

    figures = sorted(
        key.removeprefix(f"runs/{run}/figures/")
        for key in store.list()
        if key.startswith(f"runs/{run}/figures/")
    )
    assert sum(1 for name in figures if name.startswith("tearsheet/")) == len(rows)
    html = Path(demo.report.html_uri.removeprefix("file://"))
    errors: list[str] = []
    shot = tmp_path / "demo-report.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)  # fmt: skip
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(html.as_uri())
        # the verdict is the first section of the page
        assert page.locator("body > section").first.get_attribute("id") == "verdict"
        assert page.locator("#verdict h2").inner_text().startswith("Verdict: 1 of 5")
        for signal, row in rows.items():
            line = page.locator(f'#verdict tr[data-hypothesis="{row["hypothesis"]}"]')
            assert line.get_attribute("data-result") == ("pass" if row["allowed"] else "deny")
            shown = line.locator("li[data-rule]").evaluate_all(
                "nodes => nodes.map(n => n.dataset.rule)"
            )
            assert sorted(set(shown)) == row["failed_rules"], signal
        images = page.locator("img")
        assert images.count() == len(figures)
        widths = images.evaluate_all("nodes => nodes.map(n => n.naturalWidth)")
        assert all(width > 0 for width in widths)
        alts = images.evaluate_all("nodes => nodes.map(n => n.alt)")
        assert not any("@" in alt or "_" in alt for alt in alts), alts  # captions, not raw ids
        # no external resource: the report is self-contained
        assert "http://" not in html.read_text() and "https://" not in html.read_text()
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert errors == []
    assert shot.stat().st_size > 10_000
