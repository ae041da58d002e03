"""Artifact storage: create-only, content-addressed blobs chosen by URL (file://, s3://, gs://)."""

from __future__ import annotations

from crypto_analyzer.artifacts.location import ArtifactLocation, check_location, parse_location
from crypto_analyzer.artifacts.store import (
    ArtifactRef,
    ArtifactStore,
    open_settings_store,
    open_store,
    register_store,
    registered_schemes,
)

__all__ = [
    "ArtifactLocation",
    "ArtifactRef",
    "ArtifactStore",
    "check_location",
    "open_settings_store",
    "open_store",
    "parse_location",
    "register_store",
    "registered_schemes",
]
