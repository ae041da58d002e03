"""Artifact storage: where run outputs live, addressed by content."""

from __future__ import annotations

from crypto_analyzer.artifacts.location import ArtifactLocation, check_location, parse_location

__all__ = ["ArtifactLocation", "check_location", "parse_location"]
