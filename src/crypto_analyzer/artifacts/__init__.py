"""Artifact storage: create-only, content-addressed blobs; the backend is chosen by the URL's
scheme in one registry (:mod:`.registry`: built-ins plus ``crypto_analyzer.artifact_stores``)."""

from __future__ import annotations

from crypto_analyzer.artifacts.location import ArtifactLocation
from crypto_analyzer.artifacts.registry import (
    check_store_url,
    open_settings_store,
    open_store,
    register_store,
    registered_schemes,
)
from crypto_analyzer.artifacts.store import ArtifactRef, ArtifactStore

__all__ = [
    "ArtifactLocation",
    "ArtifactRef",
    "ArtifactStore",
    "check_store_url",
    "open_settings_store",
    "open_store",
    "register_store",
    "registered_schemes",
]
