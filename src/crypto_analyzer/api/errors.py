"""One error model for every response that is not a success, and the map from domain errors to it.

Domain errors (``core.errors``, ``governance.errors``) know nothing about HTTP; this module is the
only place that turns a class into a status. Every error body is
``{"error": {"code", "message", "hint"}}``; nothing else — no stack trace, no exception text of an
unexpected failure, no local values — ever leaves the process. Unexpected exceptions are logged
with the request id and answered with a 500 that names only that id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from crypto_analyzer.api.rendering import json_response
from crypto_analyzer.api.schemas import ErrorBody
from crypto_analyzer.core import errors as core
from crypto_analyzer.governance import errors as gov

__all__ = [
    "ApiError",
    "error_body",
    "error_responses",
    "install_error_handlers",
    "status_of",
]

_log = logging.getLogger("crypto_analyzer.api")

# Most specific first: the first class an error is an instance of decides.
_STATUS: tuple[tuple[type[core.CryptoAnalyzerError], int, str], ...] = (
    (core.AuthenticationError, 401, "unauthenticated"),
    (core.AuthorizationError, 403, "forbidden"),
    (core.NotFoundError, 404, "not_found"),
    (gov.CandidateExistsError, 409, "candidate_exists"),
    (gov.InvalidTransitionError, 409, "invalid_transition"),
    (gov.ConcurrentChangeError, 409, "concurrent_change"),
    (gov.GovernanceIntegrityError, 409, "refused_by_database"),
    (gov.PolicyConfigError, 500, "policy_misconfigured"),
    (core.ValidationError, 422, "invalid_input"),
    (core.SchemaNotReadyError, 503, "schema_not_ready"),
    (core.DatabaseError, 503, "database_unavailable"),
    (core.ArtifactStoreError, 503, "artifact_store_unavailable"),
    (core.ConfigError, 503, "not_configured"),
    (gov.EvidenceError, 422, "evidence_problem"),
    (gov.GovernanceError, 409, "governance_refused"),
)

_DESCRIPTIONS = {
    400: "Bad request: a body that is not UTF-8 JSON, or a malformed Range header.",
    401: "No bearer token, or not a valid API key (unknown, revoked, expired, disabled).",
    403: "The key's role does not allow this action.",
    404: "Nothing of that name in the key's tenant.",
    409: "Conflict: state machine, existing candidate, or Idempotency-Key reused elsewhere.",
    413: "Request body larger than the configured limit.",
    416: "Range not satisfiable.",
    422: "Invalid input; the message names the field.",
    429: "Rate limit of this API key exceeded; see Retry-After.",
    500: "Unexpected failure (logged with the request id).",
    503: "A dependency (database, artifact store, configuration) is unavailable.",
}


class ApiError(core.CryptoAnalyzerError):
    """An error that exists only at the HTTP edge (body size, rate, idempotency conflict)."""

    def __init__(
        self,
        status: int,
        code: str,
        problem: str,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(problem, hint)
        self.status = status
        self.code = code
        self.headers = headers or {}


def status_of(exc: core.CryptoAnalyzerError) -> tuple[int, str]:
    """(HTTP status, error code) of a domain error; an unknown subclass is a 500."""
    if isinstance(exc, ApiError):
        return exc.status, exc.code
    for cls, status, code in _STATUS:
        if isinstance(exc, cls):
            return status, code
    return 500, "internal_error"


def error_body(code: str, message: str, hint: str | None) -> dict[str, Any]:
    return {"error": {"code": code, "hint": hint, "message": message}}


def domain_error_response(exc: core.CryptoAnalyzerError) -> tuple[int, dict[str, Any]]:
    """Status and body for a domain error (what the idempotency store records)."""
    status, code = status_of(exc)
    if status >= 500 and code == "internal_error":
        return status, error_body(code, "unexpected failure", "retry; report the request id")
    return status, error_body(code, exc.problem, exc.hint)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error statuses, all with :class:`ErrorBody`."""
    return {
        status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]}
        for status in _unique(statuses)
    }


def _unique(values: Iterable[int]) -> list[int]:
    return sorted(set(values))


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that render every failure in the one error model."""

    async def domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, core.CryptoAnalyzerError)
        status, body = domain_error_response(exc)
        headers = dict(exc.headers) if isinstance(exc, ApiError) else {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if status >= 500:
            _log.error("request %s failed: %s", _request_id(request), exc)
        return json_response(status, body, headers=headers)

    async def validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = []
        for item in exc.errors():
            where = ".".join(str(part) for part in item.get("loc", ()))
            problems.append(f"{where}: {item.get('msg', 'invalid')}")
        message = "; ".join(problems[:10]) or "invalid request"
        hint = "fix the named field(s); see /openapi.json for the request schema"
        return json_response(422, error_body("invalid_request", message, hint))

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            exc.status_code, "http_error"
        )
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        return json_response(
            exc.status_code, error_body(code, detail, None), headers=dict(exc.headers or {})
        )

    async def unexpected(request: Request, exc: Exception) -> Response:
        _log.exception("request %s failed unexpectedly", _request_id(request))
        return json_response(
            500,
            error_body(
                "internal_error",
                f"unexpected failure (request id {_request_id(request)})",
                "retry; if it persists, give the request id to the operator",
            ),
        )

    app.add_exception_handler(core.CryptoAnalyzerError, domain)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(Exception, unexpected)
