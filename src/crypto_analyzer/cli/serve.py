"""``crypto-analyzer serve``: run the HTTP API under uvicorn (extra ``api``).

Binds to 127.0.0.1 unless told otherwise: the API is meant for a company network behind TLS
termination, never straight on the internet. Each worker is its own process with its own engines
and rate-limit buckets. Limits come from ``CRYPTO_ANALYZER_API_*`` (see ``docs/api.md``).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from crypto_analyzer.cli.context import announce, command_boundary, resolve_settings, stderr
from crypto_analyzer.cli.options import DbUrlOpt
from crypto_analyzer.core.errors import ConfigError

__all__ = ["serve_command"]


@command_boundary
def serve_command(
    *,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.", min=1, max=64)] = 1,
    db: DbUrlOpt = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
    try:
        import uvicorn

        from crypto_analyzer.api import api_config_from_env
    except ImportError as exc:
        raise ConfigError(
            f"the HTTP API needs the api extra ({exc.name} is missing)",
            "install it: pip install 'crypto-analyzer[api]'",
        ) from None
    settings = resolve_settings(db)
    api_config_from_env()  # refuse bad limits here, once, instead of in every worker
    announce(settings)
    os.environ["CRYPTO_ANALYZER_DB_URL"] = settings.db_url
    os.environ["CRYPTO_ANALYZER_ARTIFACTS"] = settings.artifacts
    stderr.print(f"serving on http://{host}:{port} with {workers} worker(s)", highlight=False)
    uvicorn.run(
        "crypto_analyzer.api.server:build",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
    )
