"""Audit reads: a candidate's full trace, and ``verify`` of the caller's tenant."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from crypto_analyzer.api.deps import AppStateDep, CallerDep
from crypto_analyzer.api.errors import error_responses
from crypto_analyzer.api.rendering import json_response
from crypto_analyzer.api.schemas import Trace, Verify
from crypto_analyzer.governance.audit import trace_candidate, verify_workspace

__all__ = ["router"]

router = APIRouter(tags=["audit"])

READ_ERRORS = error_responses(401, 404, 422, 429, 500, 503)


@router.get(
    "/audit/candidates/{candidate_id}/trace",
    summary="Candidate → reports → events → run → dataset → artifacts, from the database",
    responses={200: {"model": Trace, "description": "The trace."}, **READ_ERRORS},
)
def trace(
    state: AppStateDep,
    who: CallerDep,
    candidate_id: Annotated[str, Path(min_length=8, max_length=200)],
) -> Response:
    return json_response(200, trace_candidate(state.reader, who.tenant_id, candidate_id))


@router.get(
    "/audit/verify",
    summary="Every audit check for the caller's tenant; `ok` false lists the findings",
    responses={200: {"model": Verify, "description": "The audit report."}, **READ_ERRORS},
)
def verify(
    state: AppStateDep,
    who: CallerDep,
    checkpoints: Annotated[
        int | None, Query(ge=1, le=10_000, description="Check only the newest N checkpoints.")
    ] = None,
) -> Response:
    report = verify_workspace(
        state.reader,
        state.store,
        who.tenant_id,
        on_restatement=state.policy.history.on_restatement,
        service_key=state.service_key,
        checkpoints=checkpoints,
    )
    return json_response(200, report.to_dict())
