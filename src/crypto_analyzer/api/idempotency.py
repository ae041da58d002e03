"""``Idempotency-Key`` for every POST: one effect per key, the same answer on every replay.

The first request with a key *reserves* it — a row in ``idempotency_keys`` with status 0 — in its
own committed transaction before anything runs; the primary key (tenant, principal, key) makes a
second reservation fail, so of concurrent requests with one key exactly one runs the action.
The others wait for the first to finish and then return its stored response. When the first
finishes, its status and canonical-JSON body are stored; a 5xx (the action did not happen)
releases the reservation instead, so a retry can run it.

The request digest covers method, path and the validated body, so a key reused with a different
request is a 409, never a silent replay of something else. Keys belong to one principal: two
callers can use the same key text without meeting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.api.errors import ApiError, domain_error_response
from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.core.clock import to_iso, wall_now
from crypto_analyzer.core.errors import CryptoAnalyzerError
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.db.schema import idempotency_keys

__all__ = ["IdempotencyStore", "Stored", "request_digest"]

_PENDING = 0
_POLL = 0.05


@dataclass(frozen=True, slots=True)
class Stored:
    """A response as stored (and replayed)."""

    status: int
    body: bytes
    replayed: bool


def request_digest(method: str, path: str, body: Any) -> str:
    """SHA-256 of what makes two requests "the same": method, path and validated body."""
    return sha256_json({"body": body, "method": method, "path": path})


class IdempotencyStore:
    """Reserve, complete or release idempotency keys in the workspace database."""

    def __init__(self, engine: Engine, *, wait: float) -> None:
        self._engine = engine
        self._wait = wait

    def run(
        self,
        tenant_id: str,
        principal_id: str,
        key: str,
        digest: str,
        action: Callable[[], tuple[int, Any]],
    ) -> Stored:
        """Run ``action`` once for this key (or return what its first run returned)."""
        where = (
            idempotency_keys.c.tenant_id == tenant_id,
            idempotency_keys.c.principal_id == principal_id,
            idempotency_keys.c.idempotency_key == key,
        )
        deadline = time.monotonic() + self._wait
        vanished = 0
        while True:
            if self._reserve(tenant_id, principal_id, key, digest):
                break
            with self._engine.connect() as connection:
                row = connection.execute(
                    sa.select(
                        idempotency_keys.c.request_digest,
                        idempotency_keys.c.response_status,
                        idempotency_keys.c.response_body,
                    ).where(*where)
                ).first()
            if row is None:  # released between our insert and our read: try again
                vanished += 1
                if vanished > 3:
                    raise CryptoAnalyzerError(
                        f"Idempotency-Key {key!r} could not be reserved", "retry the request"
                    )
                continue
            if row[0] != digest:
                raise ApiError(
                    409,
                    "idempotency_key_reused",
                    f"Idempotency-Key {key!r} was already used with a different request",
                    "use a new Idempotency-Key for a new request",
                )
            if int(row[1]) != _PENDING:
                return Stored(int(row[1]), str(row[2]).encode("utf-8"), True)
            if time.monotonic() >= deadline:
                raise ApiError(
                    409,
                    "idempotency_key_in_progress",
                    f"the request with Idempotency-Key {key!r} is still being processed",
                    "retry the same request later; it will return the first result",
                    headers={"Retry-After": "1"},
                )
            time.sleep(_POLL)
        try:
            status, body = action()
        except CryptoAnalyzerError as exc:
            status, body = domain_error_response(exc)
            if status >= 500:
                self._release(where)
                raise
        except BaseException:
            self._release(where)
            raise
        data = canonical_bytes(body)
        with self._engine.begin() as connection:
            connection.execute(
                idempotency_keys.update()
                .where(*where)
                .values(response_status=status, response_body=data.decode("utf-8"))
            )
        return Stored(status, data, False)

    def _reserve(self, tenant_id: str, principal_id: str, key: str, digest: str) -> bool:
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    idempotency_keys.insert().values(
                        tenant_id=tenant_id,
                        principal_id=principal_id,
                        idempotency_key=key,
                        request_digest=digest,
                        response_status=_PENDING,
                        response_body="",
                        created_at=to_iso(wall_now()),
                    )
                )
        except sa.exc.IntegrityError:
            return False
        return True

    def _release(self, where: tuple[sa.ColumnElement[bool], ...]) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                idempotency_keys.delete().where(
                    *where, idempotency_keys.c.response_status == _PENDING
                )
            )
