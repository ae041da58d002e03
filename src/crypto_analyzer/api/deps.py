"""Dependencies shared by the routers: the app state, the caller behind the bearer key, paging.

The caller is only ever who the API key says: :func:`caller` authenticates the bearer token
(``governance.principal_store.authenticate_bearer``), which yields the tenant, the key id and the
principal with its role — no header, path or query parameter can choose a tenant. Then the key's
rate limit is taken. Which *action* a role may perform is decided by
``governance.principals.authorize``, the same rule the service applies (:class:`Authorized`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crypto_analyzer.api.errors import ApiError
from crypto_analyzer.api.state import AppState
from crypto_analyzer.core.canonical_json import canonical_bytes, canonical_loads
from crypto_analyzer.core.errors import AuthenticationError, ValidationError
from crypto_analyzer.governance.principal_store import authenticate_bearer
from crypto_analyzer.governance.principals import Principal, authorize

__all__ = [
    "AppStateDep",
    "Authorized",
    "Caller",
    "CallerDep",
    "CursorQuery",
    "IdempotencyKey",
    "LimitQuery",
    "app_state",
    "caller",
    "decode_cursor",
    "encode_cursor",
]

_bearer = HTTPBearer(auto_error=False, description="An API key from `crypto-analyzer keys create`.")


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.api
    state.require_schema()
    return state


AppStateDep = Annotated[AppState, Depends(app_state)]


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller: tenant, API key id and principal (with its role)."""

    tenant_id: str
    key_id: str
    principal: Principal


def caller(
    request: Request,
    state: AppStateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """401 without a valid key; 429 when the key is over its rate."""
    if credentials is None:
        raise AuthenticationError(
            "this route needs an API key", "send `Authorization: Bearer <token>`"
        )
    with state.reader.connect() as connection:
        identity = authenticate_bearer(connection, credentials.credentials)
    request.state.key_id = identity.key_id
    request.state.tenant_id = identity.tenant_id
    wait = state.limiter.acquire(identity.key_id)
    if wait is not None:
        raise ApiError(
            429,
            "rate_limited",
            f"API key {identity.key_id} is over its rate limit",
            "slow down; retry after the number of seconds in Retry-After",
            headers={"Retry-After": state.limiter.retry_after(wait)},
        )
    return Caller(identity.tenant_id, identity.key_id, identity.principal)


CallerDep = Annotated[Caller, Depends(caller)]


class Authorized:
    """Dependency: the caller, refused (403) unless its role allows ``action``."""

    def __init__(self, action: str) -> None:
        self.action = action

    def __call__(self, who: CallerDep) -> Caller:
        authorize(who.principal, self.action)
        return who


IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Unique per intended action; a replay returns the first response.",
    ),
]
LimitQuery = Annotated[int, Query(ge=1, le=500, description="Page size (1-500).")]
CursorQuery = Annotated[
    str | None,
    Query(
        max_length=600,
        description="`next_cursor` of the previous page.",
        pattern=r"^[A-Za-z0-9_-]+$",
    ),
]


def encode_cursor(value: Any) -> str:
    """An opaque cursor (base64url of canonical JSON) for the last item of a page."""
    return base64.urlsafe_b64encode(canonical_bytes(value)).decode("ascii").rstrip("=")


def decode_cursor(text: str | None) -> Any:
    """The value inside a cursor; a cursor that was not made by :func:`encode_cursor` is a 422."""
    if text is None:
        return None
    try:
        return canonical_loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationError(
            "cursor is not a cursor this API issued", "pass next_cursor from the previous page"
        ) from None
