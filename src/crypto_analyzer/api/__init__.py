"""HTTP API (FastAPI): the read API and the promotion workflow over the same services as the CLI.

Install the ``api`` extra. ``create_app(settings)`` builds the app; ``crypto-analyzer serve`` runs
it under uvicorn. See ``docs/api.md``.
"""

from __future__ import annotations

from crypto_analyzer.api.app import create_app
from crypto_analyzer.api.config import ApiConfig, api_config_from_env

__all__ = ["ApiConfig", "api_config_from_env", "create_app"]
