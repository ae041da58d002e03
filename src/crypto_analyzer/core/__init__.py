"""Core: canonical JSON, hashing, identities, seeding, clock, errors and settings.

This layer imports nothing from the rest of crypto_analyzer; every other layer builds on it.
"""

from __future__ import annotations

from crypto_analyzer.core.canonical_json import (
    CanonicalJSONError,
    canonical_bytes,
    canonical_dumps,
    canonical_loads,
)
from crypto_analyzer.core.clock import now, now_ms, to_iso, to_ms
from crypto_analyzer.core.errors import (
    AppendOnlyViolation,
    ConfigError,
    CryptoAnalyzerError,
    DatabaseError,
    DatasetIdentityError,
    NotFoundError,
    SchemaNotReadyError,
    ValidationError,
)
from crypto_analyzer.core.hashing import sha256_bytes, sha256_file, sha256_json, short_id
from crypto_analyzer.core.identities import (
    DatasetId,
    DatasetMode,
    config_digest,
    identity_config,
    run_instance_id,
    run_key,
)
from crypto_analyzer.core.seeding import COMPONENT_SALTS, derive_seed, make_rng, rng_for
from crypto_analyzer.core.settings import Settings, load_settings, reset_settings_cache
from crypto_analyzer.core.versions import ENGINE_VERSION, SEED_VERSION, SPEC_VERSION

__all__ = [
    "COMPONENT_SALTS",
    "ENGINE_VERSION",
    "SEED_VERSION",
    "SPEC_VERSION",
    "AppendOnlyViolation",
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
    "short_id",
    "to_iso",
    "to_ms",
]
