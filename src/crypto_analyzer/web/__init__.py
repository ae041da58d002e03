"""The web dashboard: server-rendered pages over the same services as the CLI and the API.

``web_router(settings)`` returns a FastAPI router the API app mounts with ``include_router``.
Pages are Jinja2 templates with charts as inline SVG built from the run's stored artifacts, every
asset is served from this package (no CDN), and every page reads correctly without JavaScript.
"""

from __future__ import annotations

from crypto_analyzer.web.router import web_router

__all__ = ["web_router"]
