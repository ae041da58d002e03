"""Dashboard sessions: an opaque id in the cookie, everything else on the server.

A browser logs in with an API key once; the key is kept only in this process's memory, next to the
principal it authenticated as, the tenant and a per-session CSRF token. The cookie carries 256
random bits and nothing else, so a stolen cookie reveals no key and logging out (or a restart)
ends the session for good. Every request re-authenticates the stored key
(:func:`~crypto_analyzer.governance.principal_store.authenticate`), so a revoked key or a disabled
principal loses the dashboard at its next click.

Sessions expire after :data:`IDLE_TIMEOUT` without use and :data:`MAX_AGE` in total. The store is
per process: with several API workers a browser needs sticky routing (or it is asked to log in
again on another worker); a shared store can replace :class:`SessionStore` behind the same methods.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from crypto_analyzer.governance.principals import Principal

__all__ = [
    "IDLE_TIMEOUT",
    "MAX_AGE",
    "MAX_SESSIONS",
    "SessionStore",
    "WebSession",
    "new_csrf_token",
    "same_token",
]

IDLE_TIMEOUT = 60 * 60.0
MAX_AGE = 12 * 60 * 60.0
MAX_SESSIONS = 10_000


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: object) -> bool:
    """Constant-time comparison; anything missing or not text is a mismatch."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return secrets.compare_digest(expected.encode(), given.encode())


@dataclass(frozen=True, slots=True)
class WebSession:
    """One logged-in browser. ``token`` never leaves the server."""

    session_id: str
    token: str = field(repr=False)
    principal: Principal
    tenant_id: str
    csrf_token: str = field(repr=False)
    created: float
    seen: float


class SessionStore:
    """Thread-safe in-memory sessions with idle and absolute expiry (oldest evicted when full)."""

    def __init__(self, *, clock: object = time.monotonic, limit: int = MAX_SESSIONS) -> None:
        self._clock = clock
        self._limit = limit
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, WebSession] = OrderedDict()

    def _now(self) -> float:
        return float(self._clock())  # type: ignore[operator]

    def create(self, token: str, principal: Principal, tenant_id: str) -> WebSession:
        now = self._now()
        session = WebSession(
            secrets.token_urlsafe(32), token, principal, tenant_id, new_csrf_token(), now, now
        )
        with self._lock:
            self._sessions[session.session_id] = session
            while len(self._sessions) > self._limit:
                self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> WebSession | None:
        """The live session of ``session_id`` (its idle clock restarted), else None."""
        if not session_id or len(session_id) > 128:
            return None
        now = self._now()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.seen > IDLE_TIMEOUT or now - session.created > MAX_AGE:
                del self._sessions[session_id]
                return None
            session = replace(session, seen=now)
            self._sessions[session_id] = session
            self._sessions.move_to_end(session_id)
            return session

    def drop(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
