"""JSON responses as canonical JSON (sorted keys, no spaces): the bytes the idempotency store keeps
and a replay returns are the bytes the first call sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from crypto_analyzer.core.canonical_json import canonical_bytes

__all__ = ["JSON_MEDIA", "json_bytes_response", "json_response"]

JSON_MEDIA = "application/json"


def json_response(status: int, body: Any, *, headers: Mapping[str, str] | None = None) -> Response:
    return json_bytes_response(status, canonical_bytes(body), headers=headers)


def json_bytes_response(
    status: int, body: bytes, *, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(body, status_code=status, media_type=JSON_MEDIA, headers=dict(headers or {}))
