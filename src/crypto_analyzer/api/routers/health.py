"""``GET /health``: readiness for load balancers and schedulers (no key needed, no tenant data)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from crypto_analyzer.api.errors import error_responses
from crypto_analyzer.api.rendering import json_response
from crypto_analyzer.api.schemas import Health
from crypto_analyzer.api.state import AppState
from crypto_analyzer.pipeline.readiness import readiness

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Database reachable, schema at head, artifact store reachable",
    responses={
        200: {"model": Health, "description": "Every check passed."},
        503: {"model": Health, "description": "At least one check failed; `checks` names it."},
        **error_responses(500),
    },
)
def health(request: Request) -> Response:
    state: AppState = request.app.state.api
    checks = readiness(state.reader, state.store, head=state.head)
    ok = all(check.ok for check in checks)
    body = {"checks": [check.to_dict() for check in checks], "ok": ok}
    return json_response(200 if ok else 503, body)
