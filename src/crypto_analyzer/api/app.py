"""``create_app(settings)``: the FastAPI app over one workspace — used by ``serve`` and by tests.

Nothing happens at import: the app, its middleware, error handlers and routers are assembled
here, and the engines, artifact store, policy and service key are opened in the lifespan
(``api.state``) and released when the server stops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from crypto_analyzer.api.config import ApiConfig
from crypto_analyzer.api.errors import install_error_handlers
from crypto_analyzer.api.middleware import EdgeMiddleware
from crypto_analyzer.api.routers import audit, experiments, health, promotion
from crypto_analyzer.api.state import open_state
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.core.versions import ENGINE_VERSION
from crypto_analyzer.web import web_router

__all__ = ["create_app"]

_DESCRIPTION = """
The HTTP interface of crypto-analyzer: the same governance and registry services as the CLI.

Authenticate with `Authorization: Bearer <token>` (an API key from `crypto-analyzer keys create`);
the key decides the tenant and the role. Every POST needs an `Idempotency-Key` header. Errors are
`{"error": {"code", "message", "hint"}}`; every response carries `X-Request-ID`.
"""


def create_app(settings: Settings, config: ApiConfig | None = None) -> FastAPI:
    """The API for the workspace ``settings`` names (its tenant setting is not used: each API
    key carries its own tenant)."""
    options = config or ApiConfig()

    dashboard = web_router(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            with open_state(settings, options) as state:
                app.state.api = state
                yield
        finally:
            dashboard.web_context.dispose()  # type: ignore[attr-defined]

    app = FastAPI(
        title="crypto-analyzer",
        version=ENGINE_VERSION,
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if options.docs else None,
        redoc_url=None,
    )
    install_error_handlers(app)
    for router in (health.router, experiments.router, promotion.router, audit.router):
        app.include_router(router)
    app.include_router(dashboard)  # the web dashboard (issue 14): same services, /web pages
    if options.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(options.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "ETag", "Digest", "Retry-After"],
        )
    app.add_middleware(EdgeMiddleware, max_body_bytes=options.max_body_bytes)
    return app
