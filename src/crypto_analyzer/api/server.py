"""The process entry uvicorn imports in each worker: the app from the environment.

``crypto-analyzer serve`` resolves and checks the settings, puts the ones given on its command line
into the environment and starts uvicorn with ``build`` as the factory, so one worker or several
all build the same app.
"""

from __future__ import annotations

import logging
import sys

from fastapi import FastAPI

from crypto_analyzer.api.app import create_app
from crypto_analyzer.api.config import api_config_from_env
from crypto_analyzer.core.settings import load_settings

__all__ = ["build"]


def build() -> FastAPI:
    """``create_app`` over the settings and API options in the environment (uvicorn factory)."""
    access = logging.getLogger("crypto_analyzer.api.access")
    if not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
    return create_app(load_settings(), api_config_from_env())
