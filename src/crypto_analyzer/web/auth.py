"""Log in with an API key, log out.

The login form posts the key (``ca_…``) and the tenant; the key is checked with
:func:`~crypto_analyzer.governance.principal_store.authenticate` — the same function the CLI and
the API use — and, if valid, a server-side session is made (``web.sessions``). The session cookie
is HttpOnly, SameSite=Strict, path-scoped to the dashboard, and Secure when the request came over
TLS. The login form has its own CSRF token (a double-submit cookie, since there is no session yet),
so another site cannot log a browser in as someone else.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from crypto_analyzer.core.errors import AuthenticationError
from crypto_analyzer.governance.principal_store import authenticate
from crypto_analyzer.web.context import COOKIE, PREFIX, SECURITY_HEADERS, WebContext
from crypto_analyzer.web.sessions import IDLE_TIMEOUT, MAX_AGE, new_csrf_token, same_token

__all__ = ["LOGIN_COOKIE", "add_auth_routes", "safe_next"]

LOGIN_COOKIE = "ca_login_csrf"


def safe_next(target: str | None) -> str:
    """Where to go after login: a dashboard path only (never another site)."""
    if (
        not target
        or not target.startswith(PREFIX + "/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(char) < 32 for char in target)
    ):
        return f"{PREFIX}/runs"
    return target


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def add_auth_routes(router: APIRouter, ctx: WebContext) -> None:
    """Register ``/login`` (GET form, POST) and ``/logout`` (POST) on ``router``."""

    def login_form(
        request: Request,
        next_path: str,
        *,
        status: int = 200,
        message: str | None = None,
        tenant: str | None = None,
    ) -> Response:
        token = new_csrf_token()
        values: dict[str, Any] = {
            "title": "Log in",
            "next": safe_next(next_path),
            "login_csrf": token,
            "message": message,
            "tenant": tenant or ctx.settings.tenant,
        }
        response = ctx.render(request, "login.html", values, session=None, status=status)
        _cookie(response, request, LOGIN_COOKIE, token, 900)
        return response

    @router.get("/login", summary="Dashboard login form")
    def login_page(
        request: Request,
        next: Annotated[str, Query(max_length=500)] = "",
    ) -> Response:
        return login_form(request, next)

    @router.post("/login", summary="Dashboard login (API key)")
    def login(
        request: Request,
        api_key: Annotated[str, Form(max_length=300)] = "",
        tenant: Annotated[str, Form(max_length=64)] = "",
        csrf_token: Annotated[str, Form(max_length=200)] = "",
        next: Annotated[str, Form(max_length=500)] = "",
    ) -> Response:
        if not same_token(request.cookies.get(LOGIN_COOKIE), csrf_token):
            return ctx.error(
                request,
                403,
                "Not allowed",
                "the login form's CSRF token is missing or wrong; nothing was done",
                session=None,
                hint="open the login page again and submit it",
            )
        tenant_id = tenant.strip() or ctx.settings.tenant
        try:
            with ctx.engine.connect() as connection:
                principal = authenticate(connection, tenant_id, api_key.strip())
        except AuthenticationError:
            return login_form(
                request,
                next,
                status=401,
                tenant=tenant_id,
                message="That API key is not valid for this tenant (unknown, "
                "revoked, expired, or its principal is disabled).",
            )
        session = ctx.sessions.create(api_key.strip(), principal, tenant_id)
        response = RedirectResponse(safe_next(next), status_code=303, headers=SECURITY_HEADERS)
        _cookie(response, request, COOKIE, session.session_id, int(min(IDLE_TIMEOUT, MAX_AGE)))
        response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
        return response

    @router.post("/logout", summary="Dashboard logout")
    def logout(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
        session = ctx.sessions.get(request.cookies.get(COOKIE))
        if session is not None and not same_token(session.csrf_token, csrf_token):
            return ctx.error(
                request, 403, "Not allowed", "the CSRF token is missing or wrong", session=session
            )
        if session is not None:
            ctx.sessions.drop(session.session_id)
        response = RedirectResponse(f"{PREFIX}/login", status_code=303, headers=SECURITY_HEADERS)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response
