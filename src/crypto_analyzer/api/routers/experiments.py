"""Experiment registry reads: runs, one run, a metric's history, the latest report, artifacts."""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response

from crypto_analyzer.api.deps import (
    AppStateDep,
    CallerDep,
    CursorQuery,
    LimitQuery,
    decode_cursor,
    encode_cursor,
)
from crypto_analyzer.api.errors import ApiError, error_responses
from crypto_analyzer.api.rendering import json_response
from crypto_analyzer.api.schemas import LatestReportOut, MetricHistory, Run, RunPage
from crypto_analyzer.core.clock import to_iso
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.db.registry import get_run
from crypto_analyzer.db.run_queries import metric_history
from crypto_analyzer.pipeline.experiments import experiments_page, latest_report, read_run_artifact

__all__ = ["router"]

router = APIRouter(tags=["experiments"])

READ_ERRORS = error_responses(401, 404, 422, 429, 500, 503)
RunIdPath = Annotated[str, Path(min_length=4, max_length=200, description="Run id or prefix.")]
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _run_cursor(text: str | None) -> str | None:
    value = decode_cursor(text)
    if value is not None and not isinstance(value, str):
        raise ValidationError("cursor is not a cursor this API issued", "pass next_cursor")
    return value


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValidationError(
            f"time {moment.isoformat()} has no time zone", "add Z or an offset, e.g. 2025-01-01Z"
        )
    return to_iso(moment)


@router.get(
    "/experiments",
    summary="Runs, newest first, filtered and cursor-paged",
    responses={200: {"model": RunPage, "description": "One page of runs."}, **READ_ERRORS},
)
def list_experiments(
    state: AppStateDep,
    who: CallerDep,
    signal: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    status: Annotated[str | None, Query(pattern="^(running|succeeded|failed|interrupted)$")] = None,
    started_from: Annotated[datetime | None, Query(description="Inclusive, ISO-8601.")] = None,
    started_before: Annotated[datetime | None, Query(description="Exclusive, ISO-8601.")] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    runs, last = experiments_page(
        state.reader,
        who.tenant_id,
        signal=signal,
        status=status,
        started_from=_iso(started_from),
        started_before=_iso(started_before),
        after=_run_cursor(cursor),
        limit=limit,
    )
    body = {
        "items": [run.to_dict() for run in runs],
        "next_cursor": None if last is None else encode_cursor(last),
    }
    return json_response(200, body)


@router.get(
    "/experiments/{run_id}",
    summary="One run: identity, config and metrics",
    responses={200: {"model": Run, "description": "The run."}, **READ_ERRORS},
)
def show_experiment(state: AppStateDep, who: CallerDep, run_id: RunIdPath) -> Response:
    return json_response(200, get_run(state.reader, who.tenant_id, run_id).to_dict())


@router.get(
    "/metrics/{name}/history",
    summary="Values of one metric across runs, newest first",
    responses={200: {"model": MetricHistory, "description": "One page."}, **READ_ERRORS},
)
def history(
    state: AppStateDep,
    who: CallerDep,
    name: Annotated[str, Path(min_length=1, max_length=200)],
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Response:
    points, last = metric_history(
        state.reader, who.tenant_id, name, after=_run_cursor(cursor), limit=limit
    )
    body = {
        "items": [point.to_dict() for point in points],
        "name": name,
        "next_cursor": None if last is None else encode_cursor(last),
    }
    return json_response(200, body)


@router.get(
    "/reports/latest",
    summary="The newest succeeded run and the artifacts it registered",
    responses={200: {"model": LatestReportOut, "description": "The report."}, **READ_ERRORS},
)
def latest(state: AppStateDep, who: CallerDep) -> Response:
    return json_response(200, latest_report(state.reader, who.tenant_id).to_dict())


@router.get(
    "/runs/{run_id}/artifacts/{name:path}",
    summary="An artifact's bytes, verified against the SHA-256 the run recorded",
    response_class=Response,
    responses={
        200: {"description": "The bytes; `ETag` and `Digest` carry the SHA-256."},
        206: {"description": "The requested byte range."},
        304: {"description": "Unchanged (If-None-Match matched the ETag)."},
        **error_responses(400, 401, 404, 416, 422, 429, 500, 503),
    },
)
def artifact(
    state: AppStateDep,
    who: CallerDep,
    run_id: RunIdPath,
    name: Annotated[str, Path(min_length=1, max_length=500)],
    range_header: Annotated[str | None, Header(alias="Range", max_length=100)] = None,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match", max_length=200)] = None,
) -> Response:
    row, data = read_run_artifact(state.reader, state.store, who.tenant_id, run_id, name)
    etag = f'"{row.sha256}"'
    headers = {
        "ETag": etag,
        "Digest": "sha-256=" + _b64(bytes.fromhex(row.sha256)),
        "Accept-Ranges": "bytes",
    }
    if if_none_match is not None and etag in [part.strip() for part in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    if range_header is None:
        return Response(data, 200, headers=headers, media_type=row.media_type)
    start, end = _byte_range(range_header, len(data))
    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
    return Response(data[start : end + 1], 206, headers=headers, media_type=row.media_type)


def _byte_range(text: str, size: int) -> tuple[int, int]:
    """The one byte range of a ``Range`` header (first and last byte, inclusive)."""
    match = _RANGE.fullmatch(text.strip())
    if match is None or match.group(1) == match.group(2) == "":
        raise ApiError(
            400,
            "bad_range",
            f"Range {text!r} is not one bytes=START-END range",
            "e.g. bytes=0-1023",
        )
    first, last = match.group(1), match.group(2)
    if first == "":  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(size - 1, int(last)) if last else size - 1
    if start >= size or start > end:
        raise ApiError(
            416,
            "range_not_satisfiable",
            f"Range {text!r} is outside the artifact's {size} bytes",
            "ask for bytes inside the artifact",
            headers={"Content-Range": f"bytes */{size}"},
        )
    return start, end


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
