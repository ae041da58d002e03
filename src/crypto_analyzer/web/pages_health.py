"""Data health: the checks of ``doctor``, providers and their circuit state, recent ingest runs,
quarantined records by reason, and the dataset ids the runs recorded.

``doctor`` (``pipeline.workspace``) and ``provider_status`` (``ingest.status``) are the functions
behind ``crypto-analyzer doctor`` and ``providers status``; ingest runs, rejects and dataset uses
come from ``db.ingest_summary``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from crypto_analyzer.db.ingest_summary import dataset_uses, recent_ingest_runs, rejects_by_reason
from crypto_analyzer.ingest.status import provider_status
from crypto_analyzer.pipeline.workspace import doctor
from crypto_analyzer.web.context import WebContext
from crypto_analyzer.web.sessions import WebSession

__all__ = ["add_health_routes", "checked_text"]


def checked_text(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def add_health_routes(router: APIRouter, ctx: WebContext) -> None:
    """Register the data-health page on ``router``."""

    @router.get("/data-health", summary="Data health (dashboard page)")
    def health_page(request: Request, fresh: Annotated[int, Query(ge=0, le=1)] = 0) -> Response:
        def build(session: WebSession) -> tuple[str, dict[str, Any]]:
            tenant = session.tenant_id
            report, at = ctx.recent(
                ("doctor", tenant), lambda: doctor(ctx.tenant_settings(tenant)), fresh=bool(fresh)
            )
            return "health.html", {
                "title": "Data health",
                "checked_at": checked_text(at),
                "checks": report.checks,
                "doctor_ok": report.ok,
                "providers": provider_status(ctx.engine, tenant),
                "ingest_runs": recent_ingest_runs(ctx.engine, tenant, 20),
                "rejects": rejects_by_reason(ctx.engine, tenant),
                "datasets": dataset_uses(ctx.engine, tenant),
            }

        return ctx.page(request, build)
