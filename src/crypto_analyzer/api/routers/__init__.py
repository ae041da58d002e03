"""One router per resource; each route parses, authorises, calls one service function, renders."""

from __future__ import annotations

from crypto_analyzer.api.routers import audit, experiments, health, promotion

__all__ = ["audit", "experiments", "health", "promotion"]
