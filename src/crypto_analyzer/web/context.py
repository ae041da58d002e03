"""What every dashboard route shares: the workspace (one read engine, the artifact store), the
templates, the sessions, and the one place that turns a page or an error into a response.

Routes never build responses by hand: :meth:`WebContext.page` checks the session, runs the page's
builder (which calls service functions), renders its template and maps a
:class:`~crypto_analyzer.core.errors.CryptoAnalyzerError` to a status with its problem and hint,
never a stack trace. It does this inside the router, so the pages behave the same whatever
exception handlers the API app installs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from crypto_analyzer.artifacts import ArtifactStore, open_settings_store
from crypto_analyzer.core.errors import (
    AuthenticationError,
    AuthorizationError,
    CryptoAnalyzerError,
    NotFoundError,
    ValidationError,
)
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import require_head
from crypto_analyzer.governance.errors import GovernanceError
from crypto_analyzer.governance.principal_store import authenticate
from crypto_analyzer.web.sessions import SessionStore, WebSession

__all__ = [
    "COOKIE",
    "PREFIX",
    "RECHECK_SECONDS",
    "SECURITY_HEADERS",
    "WebContext",
    "error_status",
]

PREFIX = "/web"
COOKIE = "ca_session"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
RECHECK_SECONDS = 30.0
"""How long a whole-workspace check (doctor, audit verify) is shown before it is run again."""
_log = logging.getLogger(__name__)
T = TypeVar("T")

Builder = Callable[[WebSession], "tuple[str, dict[str, Any]] | Response"]


def error_status(exc: CryptoAnalyzerError) -> int:
    """The HTTP status of a domain error (the same mapping for every page and form)."""
    if isinstance(exc, AuthenticationError):
        return 401
    if isinstance(exc, AuthorizationError):
        return 403
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ValidationError):
        return 400
    if isinstance(exc, GovernanceError):
        return 409
    return 500


class WebContext:
    """The dashboard's shared state for one workspace (its settings name the default tenant)."""

    def __init__(self, settings: Settings, sessions: SessionStore | None = None) -> None:
        self.settings = settings
        self.sessions = sessions or SessionStore()
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._store: ArtifactStore | None = None
        self._recent: dict[tuple[str, ...], tuple[Any, float]] = {}
        folder = resources.files("crypto_analyzer.web") / "templates"
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(folder)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.globals["prefix"] = PREFIX

    # -- workspace ---------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The read engine, opened on first use after checking the schema is at head."""
        with self._lock:
            if self._engine is None:
                engine = create_db_engine(self.settings.db_url, read_only=True, must_exist=True)
                try:
                    require_head(engine)
                except BaseException:
                    engine.dispose()
                    raise
                self._engine = engine
            return self._engine

    @property
    def store(self) -> ArtifactStore:
        with self._lock:
            if self._store is None:
                self._store = open_settings_store(self.settings)
            return self._store

    def tenant_settings(self, tenant_id: str) -> Settings:
        """The settings a governed write for ``tenant_id`` is opened with."""
        return self.settings.model_copy(update={"tenant": tenant_id})

    def recent(
        self, key: tuple[str, ...], make: Callable[[], T], *, fresh: bool
    ) -> tuple[T, float]:
        """``make()``'s result and when it was computed (epoch seconds), reused for
        :data:`RECHECK_SECONDS` unless ``fresh``: for whole-workspace checks (``doctor``, ``audit
        verify``) that take longer than a page should, and that a user can re-run on demand."""
        now = time.time()
        with self._lock:
            found = self._recent.get(key)
        if found is not None and not fresh and now - found[1] < RECHECK_SECONDS:
            return found
        value = make()
        with self._lock:
            self._recent[key] = (value, now)
        return value, now

    def forget(self, tenant_id: str) -> None:
        """Drop the tenant's reused checks (after a governed write they are out of date)."""
        with self._lock:
            for key in [key for key in self._recent if tenant_id in key[1:]]:
                del self._recent[key]

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    # -- sessions ----------------------------------------------------------------------------

    def session(self, request: Request) -> WebSession | None:
        """The request's live session, its key re-authenticated (revoked keys end it)."""
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            return None
        try:
            with self.engine.connect() as connection:
                principal = authenticate(connection, session.tenant_id, session.token)
        except AuthenticationError:
            self.sessions.drop(session.session_id)
            return None
        if principal != session.principal:  # the role changed under the session: log in again
            self.sessions.drop(session.session_id)
            return None
        return session

    # -- responses ---------------------------------------------------------------------------

    def render(
        self,
        request: Request,
        template: str,
        values: dict[str, Any],
        *,
        session: WebSession | None,
        status: int = 200,
    ) -> HTMLResponse:
        page = self.templates.get_template(template).render(
            session=session, path=request.url.path, **values
        )
        return HTMLResponse(page, status_code=status, headers=SECURITY_HEADERS)

    def error(
        self,
        request: Request,
        status: int,
        title: str,
        message: str,
        *,
        session: WebSession | None,
        hint: str | None = None,
    ) -> HTMLResponse:
        values = {"title": title, "message": message, "hint": hint, "status": status}
        return self.render(request, "error.html", values, session=session, status=status)

    def login_redirect(self, request: Request) -> RedirectResponse:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        response = RedirectResponse(f"{PREFIX}/login?next={_quote(target)}", status_code=303)
        response.headers.update(SECURITY_HEADERS)
        return response

    def page(self, request: Request, builder: Builder) -> Response:
        """Session check → builder → template, with domain errors as error pages."""
        session = self.session(request)
        if session is None:
            return self.login_redirect(request)
        return self.guarded(request, session, lambda: builder(session))

    def guarded(
        self, request: Request, session: WebSession | None, work: Callable[[], Any]
    ) -> Response:
        try:
            result = work()
        except CryptoAnalyzerError as exc:
            status = error_status(exc)
            if status == 500:
                _log.warning("dashboard request failed: %s", exc)
            return self.error(
                request,
                status,
                _TITLES.get(status, "Error"),
                exc.problem,
                session=session,
                hint=exc.hint,
            )
        if isinstance(result, Response):
            return result
        template, values = result
        return self.render(request, template, values, session=session)


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    500: "Server error",
}


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/")
