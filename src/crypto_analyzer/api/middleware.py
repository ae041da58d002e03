"""The HTTP edge around every request: request id, body size limit, access log, last-resort 500.

A plain ASGI middleware (no per-request task or thread, unlike ``BaseHTTPMiddleware``):

* **Request id** — a client's ``X-Request-ID`` is kept when it is short and plain
  (``[A-Za-z0-9._-]{1,64}``), else a new one is made; it is stored in ``request.state`` and sent
  back in ``X-Request-ID`` on every response, errors included.
* **Body limit** — a ``Content-Length`` over the limit is answered 413 before the app runs; a
  body without one is counted as it streams and stopped at the limit.
* **Access log** — one JSON line per request on the ``crypto_analyzer.api.access`` logger: id,
  method, path, status, duration, and the key id and tenant when the request authenticated. No
  query string (it may carry cursors) and never a header value.
* **Last resort** — an exception nothing else handled becomes the generic 500 error body.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crypto_analyzer.api.errors import error_body
from crypto_analyzer.core.canonical_json import canonical_bytes

__all__ = ["BodyTooLarge", "EdgeMiddleware"]

_access = logging.getLogger("crypto_analyzer.api.access")
_log = logging.getLogger("crypto_analyzer.api")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit (FastAPI re-raises
    ``HTTPException`` from body parsing unchanged, so the 413 reaches the error handler)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds the limit of {limit} bytes")


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        header = (b"x-request-id", request_id.encode("ascii"))
        status = {"code": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body:
                await _send_error(
                    send_with_id, 413, "body_too_large", BodyTooLarge(self.max_body).detail
                )
            else:
                await self.app(scope, self._limited(receive), send_with_id)
        except Exception:
            _log.exception("request %s failed unexpectedly", request_id)
            if status["code"] == 0:
                await _send_error(
                    send_with_id,
                    500,
                    "internal_error",
                    f"unexpected failure (request id {request_id})",
                    "retry; if it persists, give the request id to the operator",
                )
        finally:
            _log_access(scope, state, status["code"], started)

    def _limited(self, receive: Receive) -> Receive:
        seen = 0
        limit = self.max_body

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        return counted


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_error(
    send: Send, status: int, code: str, message: str, hint: str | None = None
) -> None:
    body = canonical_bytes(error_body(code, message, hint))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _log_access(scope: Scope, state: dict[str, Any], status: int, started: float) -> None:
    if not _access.isEnabledFor(logging.INFO):
        return
    record = {
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "key_id": state.get("key_id"),
        "method": scope.get("method"),
        "path": scope.get("path"),
        "request_id": state.get("request_id"),
        "status": status,
        "tenant": state.get("tenant_id"),
    }
    _access.info(json.dumps(record, sort_keys=True, separators=(",", ":")))
