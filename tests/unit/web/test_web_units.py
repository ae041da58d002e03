"""Pure parts of the dashboard: SVG charts, sessions, CSRF comparison, rule tables, redirects."""

from __future__ import annotations

import pytest

from crypto_analyzer.governance.principals import Principal
from crypto_analyzer.governance.records import CandidateRecord, EventRecord, ReportRecord
from crypto_analyzer.web.auth import safe_next
from crypto_analyzer.web.charts import MAX_POINTS, histogram_chart, line_chart
from crypto_analyzer.web.governance_views import allowed_actions, rule_rows
from crypto_analyzer.web.sessions import IDLE_TIMEOUT, MAX_AGE, SessionStore, same_token


def test_line_chart_escapes_text_thins_points_and_names_itself() -> None:
    points = [(float(i), float(i % 7)) for i in range(5000)]
    svg = str(
        line_chart(
            {"<b>x</b>": points, "nan": [(0.0, float("nan"))]},
            title="T & t",
            desc="a <desc>",
            x_label="x",
            y_label="y",
        )
    )
    assert svg.startswith('<svg class="chart" role="img"') and "aria-labelledby" in svg
    assert "&lt;b&gt;x&lt;/b&gt;" in svg and "<b>" not in svg
    assert "T &amp; t" in svg and "a &lt;desc&gt;" in svg
    polyline = svg.split('<polyline points="', 1)[1].split('"', 1)[0]
    assert len(polyline.split()) <= MAX_POINTS + 1
    assert svg.count("<polyline") == 1  # the all-NaN series draws nothing


def test_empty_charts_say_so() -> None:
    assert "no data" in str(line_chart({}, title="t", desc="d", x_label="x", y_label="y"))
    assert "no data" in str(histogram_chart([], title="t", desc="d", x_label="x"))
    bars = str(histogram_chart([1.0, 2.0, 2.5], title="t", desc="d", x_label="x", marker=3.0))
    assert bars.count('class="bar"') == 30 and 'class="marker"' in bars


def test_sessions_expire_when_idle_and_at_max_age() -> None:
    now = [0.0]
    store = SessionStore(clock=lambda: now[0], limit=2)
    principal = Principal("alice", "alice", "reviewer", "token")
    session = store.create("ca_token", principal, "default")
    assert len(session.session_id) >= 40 and "ca_token" not in repr(session)
    now[0] = IDLE_TIMEOUT - 1
    assert store.get(session.session_id) is not None
    now[0] += IDLE_TIMEOUT + 1
    assert store.get(session.session_id) is None
    long = store.create("ca_token", principal, "default")
    for step in range(1, int(MAX_AGE // (IDLE_TIMEOUT / 2)) + 2):
        now[0] = long.created + step * IDLE_TIMEOUT / 2
        found = store.get(long.session_id)
    assert found is None
    first, _second, third = (store.create("t", principal, "d") for _ in range(3))
    assert store.get(first.session_id) is None and store.get(third.session_id) is not None
    assert store.get(None) is None and store.get("x" * 500) is None


@pytest.mark.parametrize(
    ("expected", "given", "same"),
    [
        ("abc", "abc", True),
        ("abc", "abd", False),
        ("abc", "", False),
        (None, "abc", False),
        ("abc", None, False),
        ("abc", ["abc"], False),
    ],
)
def test_csrf_comparison(expected: str | None, given: object, same: bool) -> None:
    assert same_token(expected, given) is same


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/web/runs/abc?x=1", True),
        ("https://evil.example/web", False),
        ("//evil.example", False),
        ("/other", False),
        ("/web\\..", False),
        ("", False),
    ],
)
def test_login_redirect_stays_on_the_dashboard(target: str, kept: bool) -> None:
    assert (safe_next(target) == target) is kept


def _candidate(status: str) -> CandidateRecord:
    return CandidateRecord(
        "default",
        "cand_1",
        "run",
        "key",
        "ds",
        "sig",
        1,
        status,
        "d",
        None,
        None,
        "alice",
        "t",
        "t",
    )


def test_buttons_follow_roles_and_states() -> None:
    researcher = Principal("r", "r", "researcher", "token")
    reviewer = Principal("v", "v", "reviewer", "token")
    assert allowed_actions(researcher, _candidate("candidate")) == {
        "evaluate": True,
        "accept": False,
        "reject": False,
        "revoke": False,
    }
    assert allowed_actions(reviewer, _candidate("candidate")) == {
        "evaluate": True,
        "accept": True,
        "reject": True,
        "revoke": False,
    }
    assert allowed_actions(reviewer, _candidate("accepted"))["revoke"] is True
    assert not any(allowed_actions(reviewer, _candidate("rejected")).values())


def test_rule_rows_put_denials_first_and_read_threshold_and_measured() -> None:
    report = ReportRecord(
        "default",
        "rep_1",
        "cand_1",
        "candidate",
        False,
        "d",
        "p",
        "pd",
        (
            {
                "rule": "effect.mean_ic",
                "message": "OOS mean IC at horizon 1 is -0.0039, below the minimum 0.02",
            },
        ),
        ({"rule": "regime.worst_ic", "message": "not judged"},),
        "r",
        "t",
    )
    event = EventRecord(
        "default",
        "e",
        1,
        "cand_1",
        "evaluated",
        "exploratory",
        None,
        "rep_1",
        "r",
        '{"rules":["effect.mean_ic","effect.hac_t","regime.worst_ic"]}',
        "t",
        "p",
        "h",
    )
    rows = rule_rows(report, [event])
    assert [(r.rule, r.verdict, r.threshold, r.measured) for r in rows] == [
        ("effect.mean_ic", "deny", "≥ 0.02", "-0.0039"),
        ("regime.worst_ic", "warn", "—", "—"),
        ("effect.hac_t", "pass", "—", "—"),
    ]
