"""Core: canonical JSON, hashing, identities, seeding, clock, errors and settings.

This layer imports nothing from the rest of crypto_analyzer; every other layer builds on it. Names
are resolved on first use (PEP 562), so a module that needs one small piece (the isolated Arrow
reader's worker needs only ``cell_encoding``) does not pay for settings and pydantic.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "COMPONENT_SALTS",
    "ENGINE_VERSION",
    "SEED_VERSION",
    "SPEC_VERSION",
    "AppendOnlyViolation",
    "ArtifactStoreError",
    "AuthenticationError",
    "AuthorizationError",
    "CanonicalJSONError",
    "ConfigError",
    "CryptoAnalyzerError",
    "DatabaseError",
    "DatasetId",
    "DatasetIdentityError",
    "DatasetMode",
    "NotFoundError",
    "SchemaNotReadyError",
    "Settings",
    "ValidationError",
    "canonical_bytes",
    "canonical_dumps",
    "canonical_loads",
    "config_digest",
    "derive_seed",
    "identity_config",
    "load_settings",
    "make_rng",
    "now",
    "now_ms",
    "reset_settings_cache",
    "rng_for",
    "run_instance_id",
    "run_key",
    "sha256_bytes",
    "sha256_file",
    "sha256_json",
    "sha256_stream",
    "short_id",
    "to_iso",
    "to_ms",
]

_HOME = {
    "AppendOnlyViolation": "errors",
    "ArtifactStoreError": "errors",
    "AuthenticationError": "errors",
    "AuthorizationError": "errors",
    "COMPONENT_SALTS": "seeding",
    "CanonicalJSONError": "canonical_json",
    "ConfigError": "errors",
    "CryptoAnalyzerError": "errors",
    "DatabaseError": "errors",
    "DatasetId": "identities",
    "DatasetIdentityError": "errors",
    "DatasetMode": "identities",
    "ENGINE_VERSION": "versions",
    "NotFoundError": "errors",
    "SEED_VERSION": "versions",
    "SPEC_VERSION": "versions",
    "SchemaNotReadyError": "errors",
    "Settings": "settings",
    "ValidationError": "errors",
    "canonical_bytes": "canonical_json",
    "canonical_dumps": "canonical_json",
    "canonical_loads": "canonical_json",
    "config_digest": "identities",
    "derive_seed": "seeding",
    "identity_config": "identities",
    "load_settings": "settings",
    "make_rng": "seeding",
    "now": "clock",
    "now_ms": "clock",
    "reset_settings_cache": "settings",
    "rng_for": "seeding",
    "run_instance_id": "identities",
    "run_key": "identities",
    "sha256_bytes": "hashing",
    "sha256_file": "hashing",
    "sha256_stream": "hashing",
    "sha256_json": "hashing",
    "short_id": "hashing",
    "to_iso": "clock",
    "to_ms": "clock",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
