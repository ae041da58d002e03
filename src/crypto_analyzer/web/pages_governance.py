"""Governance pages: candidates (list, detail with eligibility reports and the review buttons),
the governed actions behind those buttons, the timeline with its chain status, the full audit, and
a candidate's lineage.

Every action calls the governance service exactly as ``crypto-analyzer promotion`` does:
:func:`~crypto_analyzer.governance.workspace.open_governed` with the session's key, then
``evaluate`` / ``reject`` / ``revoke`` with the authenticated principal. The service authorises the
principal's role itself, so a forged POST by a role without the right is refused there (403) even
though the page never showed the button. Every form carries the session's CSRF token; a POST
without it, or from another origin, is refused before anything is read.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.db.workspace_mode import read_mode
from crypto_analyzer.governance import audit_verify, open_governed
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance.states import STATUSES
from crypto_analyzer.governance.trace import trace_candidate
from crypto_analyzer.web.context import PREFIX, SECURITY_HEADERS, WebContext
from crypto_analyzer.web.governance_views import (
    allowed_actions,
    chain_status,
    lineage_graph,
    rule_rows,
)
from crypto_analyzer.web.pages_health import checked_text
from crypto_analyzer.web.sessions import WebSession, same_token

__all__ = ["NOTICES", "add_governance_routes", "same_origin"]

NOTICES = {
    "promoted": "The evaluation passed and the status changed.",
    "evaluated": "The evaluation was recorded; the status did not change (see the newest report).",
    "rejected": "The candidate was rejected.",
    "revoked": "The candidate was revoked.",
}
Reason = Annotated[str, Form(max_length=2000)]
Csrf = Annotated[str, Form(max_length=200)]


def same_origin(request: Request) -> bool:
    """False when the browser says the form came from another origin (Origin or Referer)."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return claimed is None
    parts = urlsplit(claimed)
    return f"{parts.scheme}://{parts.netloc}" == f"{request.url.scheme}://{request.url.netloc}"


def add_governance_routes(router: APIRouter, ctx: WebContext) -> None:
    """Register the governance pages and actions on ``router``."""

    @router.get("/candidates", summary="Candidates by status (dashboard page)")
    def candidates_page(
        request: Request, status: Annotated[str, Query(max_length=32)] = ""
    ) -> Response:
        def build(session: WebSession) -> tuple[str, dict[str, Any]]:
            if status and status not in STATUSES:
                raise ValidationError(f"status {status!r} is not one of {', '.join(STATUSES)}")
            with ctx.engine.connect() as connection:
                items = repo.list_candidates(connection, session.tenant_id, status=status or None)
            return "candidates.html", {
                "title": "Candidates",
                "candidates": items,
                "status": status,
                "statuses": STATUSES,
            }

        return ctx.page(request, build)

    @router.get("/candidates/{candidate_id}", summary="Candidate detail (dashboard page)")
    def candidate_page(
        request: Request, candidate_id: str, notice: Annotated[str, Query(max_length=32)] = ""
    ) -> Response:
        def build(session: WebSession) -> tuple[str, dict[str, Any]]:
            tenant = session.tenant_id
            with ctx.engine.connect() as connection:
                full = repo.resolve_candidate_id(connection, tenant, candidate_id)
                candidate = repo.get_candidate(connection, tenant, full)
                reports = repo.list_reports(connection, tenant, full)
                events = repo.list_events(connection, tenant, full)
            assert candidate is not None  # resolve_candidate_id found it
            return "candidate.html", {
                "title": f"Candidate {candidate.signal}@{candidate.horizon}",
                "candidate": candidate,
                "reports": [(report, rule_rows(report, events)) for report in reversed(reports)],
                "events": events,
                "actions": allowed_actions(session.principal, candidate),
                "notice": NOTICES.get(notice),
            }

        return ctx.page(request, build)

    def act(request: Request, candidate_id: str, csrf_token: str, action: Any) -> Response:
        session = ctx.session(request)
        if session is None:
            return ctx.error(request, 401, "Not authenticated", "log in first", session=None)
        if not same_token(session.csrf_token, csrf_token) or not same_origin(request):
            return ctx.error(
                request,
                403,
                "Not allowed",
                "the form's CSRF token is missing or wrong, or it came from "
                "another site; nothing was done",
                session=session,
                hint="reload the page and submit the form again",
            )

        def work() -> Response:
            settings = ctx.tenant_settings(session.tenant_id)
            with open_governed(settings, token=session.token) as (service, principal):
                try:
                    notice = action(service, principal)
                finally:
                    ctx.forget(session.tenant_id)
            target = f"{PREFIX}/candidates/{candidate_id}?" + urlencode({"notice": notice})
            return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)

        return ctx.guarded(request, session, work)

    @router.post("/candidates/{candidate_id}/evaluate", summary="Evaluate (dashboard form)")
    def evaluate_action(
        request: Request,
        candidate_id: str,
        csrf_token: Csrf = "",
        target: Annotated[str, Form(max_length=16)] = "candidate",
    ) -> Response:
        def run(service: Any, principal: Any) -> str:
            outcome = service.evaluate(candidate_id, target=target, actor=principal)
            return "promoted" if outcome.status_changed else "evaluated"

        return act(request, candidate_id, csrf_token, run)

    @router.post("/candidates/{candidate_id}/reject", summary="Reject (dashboard form)")
    def reject_action(
        request: Request, candidate_id: str, csrf_token: Csrf = "", reason: Reason = ""
    ) -> Response:
        def run(service: Any, principal: Any) -> str:
            service.reject(candidate_id, reason=reason, actor=principal)
            return "rejected"

        return act(request, candidate_id, csrf_token, run)

    @router.post("/candidates/{candidate_id}/revoke", summary="Revoke (dashboard form)")
    def revoke_action(
        request: Request, candidate_id: str, csrf_token: Csrf = "", reason: Reason = ""
    ) -> Response:
        def run(service: Any, principal: Any) -> str:
            service.revoke(candidate_id, reason=reason, actor=principal)
            return "revoked"

        return act(request, candidate_id, csrf_token, run)

    @router.get("/timeline", summary="Governance timeline (dashboard page)")
    def timeline_page(request: Request) -> Response:
        def build(session: WebSession) -> tuple[str, dict[str, Any]]:
            with ctx.engine.connect() as connection:
                events = repo.list_events(connection, session.tenant_id)
                mode = read_mode(connection, session.tenant_id)
            return "timeline.html", {
                "title": "Governance timeline",
                "events": list(reversed(events)),
                "mode": mode.value,
                "chain": chain_status(events, mode),
            }

        return ctx.page(request, build)

    @router.get("/audit", summary="Full audit verify (dashboard page)")
    def audit_page(request: Request, fresh: Annotated[int, Query(ge=0, le=1)] = 0) -> Response:
        def build(session: WebSession) -> tuple[str, dict[str, Any]]:
            tenant = session.tenant_id
            report, at = ctx.recent(
                ("audit", tenant),
                lambda: audit_verify(ctx.tenant_settings(tenant)),
                fresh=bool(fresh),
            )
            return "audit.html", {
                "title": "Audit verify",
                "report": report,
                "checked_at": checked_text(at),
            }

        return ctx.page(request, build)

    @router.get("/lineage/{candidate_id}", summary="Candidate lineage (dashboard page)")
    def lineage_page(request: Request, candidate_id: str) -> Response:
        def build(session: WebSession) -> tuple[str, dict[str, Any]]:
            trace = trace_candidate(ctx.engine, session.tenant_id, candidate_id)
            graph = lineage_graph(trace)
            return "lineage.html", {
                "title": f"Lineage of {graph['candidate']['candidate_id']}",
                "graph": graph,
            }

        return ctx.page(request, build)
