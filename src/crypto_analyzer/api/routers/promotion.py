"""The promotion workflow: allowlist, candidates, and the governed actions on them.

Reads use the governance service over the read-only engine; every POST runs one governance
service action through the idempotency store (``Idempotency-Key`` required), so a replay returns
the stored response and writes no second event. A denied evaluation is a 200 with
``allowed: false``, every reason and the eligibility report id — a refusal is an answer, not an
error. Roles are checked with ``governance.principals.authorize`` before anything is reserved, and
again by the service itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from crypto_analyzer.api.deps import (
    AppStateDep,
    Authorized,
    Caller,
    CallerDep,
    CursorQuery,
    IdempotencyKey,
    LimitQuery,
    decode_cursor,
    encode_cursor,
)
from crypto_analyzer.api.errors import error_responses
from crypto_analyzer.api.idempotency import request_digest
from crypto_analyzer.api.rendering import json_bytes_response, json_response
from crypto_analyzer.api.schemas import (
    Allowlist,
    Candidate,
    CandidateDetail,
    CandidatePage,
    CreateCandidate,
    Decision,
    EvaluateCandidate,
    ReviewCandidate,
)
from crypto_analyzer.api.state import AppState
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.governance import Evaluation
from crypto_analyzer.governance.principals import authorize

__all__ = ["router"]

router = APIRouter(tags=["promotion"])

READ_ERRORS = error_responses(401, 404, 422, 429, 500, 503)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 429, 500, 503)
CandidatePath = Annotated[
    str, Path(min_length=8, max_length=200, description="Candidate id or unique prefix (≥ 8).")
]
StatusQuery = Annotated[
    str | None, Query(pattern="^(exploratory|candidate|accepted|rejected|revoked)$")
]


def _idempotent(
    request: Request,
    state: AppState,
    who: Caller,
    key: str,
    body: Any,
    action: Callable[[], tuple[int, Any]],
) -> Response:
    digest = request_digest(request.method, request.url.path, body)
    stored = state.idempotency.run(who.tenant_id, who.principal.principal_id, key, digest, action)
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
    return json_bytes_response(stored.status, stored.body, headers=headers)


def _decision(outcome: Evaluation) -> dict[str, Any]:
    report = outcome.report
    return {
        "allowed": outcome.passed,
        "candidate": outcome.candidate.to_dict(),
        "eligibility_report_id": report.report_id,
        "event_id": outcome.event.event_id,
        "level": report.level,
        "policy_digest": report.policy_digest,
        "policy_id": report.policy_id,
        "previous_status": outcome.previous_status,
        "reasons": list(report.reasons),
        "status": outcome.candidate.status,
        "status_changed": outcome.status_changed,
        "warnings": list(report.warnings),
    }


@router.get(
    "/latest/allowlist",
    summary="Accepted (and not revoked) signals with their evidence digest and run",
    responses={200: {"model": Allowlist, "description": "The allowlist."}, **READ_ERRORS},
)
def allowlist(state: AppStateDep, who: CallerDep) -> Response:
    accepted = state.reading(who.tenant_id).list_candidates(status="accepted")
    items = [
        {
            "accepted_at": item.updated_at,
            "candidate_id": item.candidate_id,
            "dataset_id": item.dataset_id,
            "eligibility_report_id": item.eligibility_report_id,
            "evidence_digest": item.evidence_digest,
            "horizon": item.horizon,
            "run_instance_id": item.run_instance_id,
            "run_key": item.run_key,
            "signal": item.signal,
        }
        for item in accepted
    ]
    return json_response(200, {"items": items, "tenant_id": who.tenant_id})


@router.get(
    "/promotion/candidates",
    summary="Candidates, newest first, cursor-paged",
    responses={200: {"model": CandidatePage, "description": "One page."}, **READ_ERRORS},
)
def list_candidates(
    state: AppStateDep,
    who: CallerDep,
    status: StatusQuery = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Response:
    after = decode_cursor(cursor)
    if after is not None and not (
        isinstance(after, list) and len(after) == 2 and all(isinstance(x, str) for x in after)
    ):
        raise ValidationError("cursor is not a cursor this API issued", "pass next_cursor")
    page = state.reading(who.tenant_id).list_candidates(
        status=status, after=None if after is None else (after[0], after[1]), limit=limit + 1
    )
    more = len(page) > limit
    items = page[:limit]
    last = [items[-1].created_at, items[-1].candidate_id] if more and items else None
    body = {
        "items": [item.to_dict() for item in items],
        "next_cursor": None if last is None else encode_cursor(last),
    }
    return json_response(200, body)


@router.get(
    "/promotion/candidates/{candidate_id}",
    summary="One candidate with its eligibility reports and events",
    responses={200: {"model": CandidateDetail, "description": "The candidate."}, **READ_ERRORS},
)
def show_candidate(state: AppStateDep, who: CallerDep, candidate_id: CandidatePath) -> Response:
    service = state.reading(who.tenant_id)
    candidate = service.get(candidate_id)
    body = {
        "candidate": candidate.to_dict(),
        "events": [event.to_dict() for event in service.events(candidate.candidate_id)],
        "reports": [report.to_dict() for report in service.reports(candidate.candidate_id)],
    }
    return json_response(200, body)


@router.post(
    "/promotion/candidates",
    status_code=201,
    summary="Create an exploratory candidate for (run, signal, horizon)",
    responses={201: {"model": Candidate, "description": "Created."}, **WRITE_ERRORS},
)
def create_candidate(
    request: Request,
    state: AppStateDep,
    who: Annotated[Caller, Depends(Authorized("create"))],
    body: CreateCandidate,
    idempotency_key: IdempotencyKey,
) -> Response:
    def action() -> tuple[int, Any]:
        created = state.writing(who.tenant_id).create(
            run_instance_id=body.run_instance_id,
            signal=body.signal,
            horizon=body.horizon,
            actor=who.principal,
        )
        return 201, created.to_dict()

    return _idempotent(request, state, who, idempotency_key, body.model_dump(), action)


@router.post(
    "/promotion/candidates/{candidate_id}/evaluate",
    summary="Evaluate at a level (promotes when allowed); a denial is 200 with allowed=false",
    responses={200: {"model": Decision, "description": "The decision."}, **WRITE_ERRORS},
)
def evaluate_candidate(
    request: Request,
    state: AppStateDep,
    who: CallerDep,
    candidate_id: CandidatePath,
    body: EvaluateCandidate,
    idempotency_key: IdempotencyKey,
) -> Response:
    authorize(who.principal, f"evaluate:{body.target}")

    def action() -> tuple[int, Any]:
        outcome = state.writing(who.tenant_id).evaluate(
            candidate_id, target=body.target, actor=who.principal
        )
        return 200, _decision(outcome)

    return _idempotent(request, state, who, idempotency_key, body.model_dump(), action)


def _review(
    request: Request,
    state: AppState,
    who: Caller,
    candidate_id: str,
    body: ReviewCandidate,
    key: str,
    verb: str,
) -> Response:
    def action() -> tuple[int, Any]:
        service = state.writing(who.tenant_id)
        method = service.reject if verb == "reject" else service.revoke
        return 200, method(candidate_id, reason=body.reason, actor=who.principal).to_dict()

    return _idempotent(request, state, who, key, body.model_dump(), action)


@router.post(
    "/promotion/candidates/{candidate_id}/reject",
    summary="Reject an exploratory or candidate candidate (reviewer; terminal)",
    responses={200: {"model": Candidate, "description": "Rejected."}, **WRITE_ERRORS},
)
def reject_candidate(
    request: Request,
    state: AppStateDep,
    who: Annotated[Caller, Depends(Authorized("reject"))],
    candidate_id: CandidatePath,
    body: ReviewCandidate,
    idempotency_key: IdempotencyKey,
) -> Response:
    return _review(request, state, who, candidate_id, body, idempotency_key, "reject")


@router.post(
    "/promotion/candidates/{candidate_id}/revoke",
    summary="Revoke an accepted candidate (reviewer; terminal)",
    responses={200: {"model": Candidate, "description": "Revoked."}, **WRITE_ERRORS},
)
def revoke_candidate(
    request: Request,
    state: AppStateDep,
    who: Annotated[Caller, Depends(Authorized("revoke"))],
    candidate_id: CandidatePath,
    body: ReviewCandidate,
    idempotency_key: IdempotencyKey,
) -> Response:
    return _review(request, state, who, candidate_id, body, idempotency_key, "revoke")
