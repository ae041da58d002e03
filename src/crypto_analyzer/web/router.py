"""The dashboard as one FastAPI router, mounted into the API app with a single line::

    app.include_router(web_router(settings))

Every page lives under ``/web``; static assets are served by a route (not a mounted app, which
``include_router`` would drop) from this package only, so the dashboard works offline.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from crypto_analyzer.core.errors import NotFoundError
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.web.auth import add_auth_routes
from crypto_analyzer.web.context import PREFIX, WebContext
from crypto_analyzer.web.pages_governance import add_governance_routes
from crypto_analyzer.web.pages_health import add_health_routes
from crypto_analyzer.web.pages_runs import add_run_routes
from crypto_analyzer.web.sessions import SessionStore

__all__ = ["STATIC_FILES", "web_router"]

STATIC_FILES = {
    "style.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


def _static(name: str) -> bytes:
    if name not in STATIC_FILES:
        raise NotFoundError(f"no static file {name!r}")
    return (resources.files("crypto_analyzer.web") / "static" / name).read_bytes()


def web_router(settings: Settings, *, sessions: SessionStore | None = None) -> APIRouter:
    """The dashboard router for the workspace ``settings`` names (its tenant: the login default)."""
    ctx = WebContext(settings, sessions)
    router = APIRouter(prefix=PREFIX, tags=["dashboard"], include_in_schema=False)
    assets = {name: _static(name) for name in STATIC_FILES}

    @router.get("/static/{name}")
    def static_file(name: str) -> Response:
        if name not in assets:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(
            assets[name],
            media_type=STATIC_FILES[name],
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    @router.get("")
    @router.get("/")
    def home() -> Response:
        return RedirectResponse(f"{PREFIX}/runs", status_code=303)

    add_auth_routes(router, ctx)
    add_run_routes(router, ctx)
    add_governance_routes(router, ctx)
    add_health_routes(router, ctx)
    router.web_context = ctx  # type: ignore[attr-defined]  # tests and shutdown reach it here
    return router
