"""Seed derivation: every random stream in a governed run comes from here.

A seed is a pure function of the run key, a named component, an optional fold index and the scheme
version, so a rerun of the same run draws the same numbers and two components never share a stream.
The salts are spelled out in one table; adding a component means adding a salt here, never inventing
one at a call site.
"""

from __future__ import annotations

import hashlib
from types import MappingProxyType

import numpy as np

from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.core.versions import SEED_VERSION

__all__ = [
    "COMPONENT_SALTS",
    "SUPPORTED_SEED_VERSIONS",
    "derive_procedure_seed",
    "derive_seed",
    "make_rng",
    "rng_for",
]

COMPONENT_SALTS = MappingProxyType(
    {
        "bootstrap": "crypto-analyzer:seed:bootstrap",
        "breaks": "crypto-analyzer:seed:breaks",
        "calibration": "crypto-analyzer:seed:calibration",
        "cscv": "crypto-analyzer:seed:cscv",
        "folds": "crypto-analyzer:seed:folds",
        "null_suite": "crypto-analyzer:seed:null-suite",
        "portfolio": "crypto-analyzer:seed:portfolio",
        "reality_check": "crypto-analyzer:seed:reality-check",
        "regimes": "crypto-analyzer:seed:regimes",
        "romano_wolf": "crypto-analyzer:seed:romano-wolf",
        "spa": "crypto-analyzer:seed:spa",
        "stat_procedure": "crypto-analyzer:seed:stat-procedure",
        "synthetic_market": "crypto-analyzer:seed:synthetic-market",
    }
)
"""Named salt per component. Values are frozen: changing one changes that component's seeds."""

SUPPORTED_SEED_VERSIONS = frozenset({1, 2})
"""Versions :func:`derive_seed` accepts: the current one and those older records name."""
_SEED_BYTES = 8


def derive_seed(
    run_key: str, component: str, fold: int | None = None, version: int = SEED_VERSION
) -> int:
    """64-bit seed = first 8 bytes (big-endian) of SHA-256 over canonical JSON of the inputs.

    Parameters
    ----------
    run_key : str
        The run's identity; any non-empty string (normally the 64-hex run key).
    component : str
        One of :data:`COMPONENT_SALTS`.
    fold : int or None
        Fold index for per-fold streams; ``None`` for run-wide streams.
    version : int
        Seed scheme version, recorded next to every seed used.
    """
    if not isinstance(run_key, str) or not run_key:
        raise ValueError(f"run_key must be a non-empty string, got {run_key!r}")
    if component not in COMPONENT_SALTS:
        allowed = ", ".join(sorted(COMPONENT_SALTS))
        raise ValueError(f"component {component!r} has no seed salt; allowed: {allowed}")
    if fold is not None and (isinstance(fold, bool) or not isinstance(fold, int) or fold < 0):
        raise ValueError(f"fold must be a non-negative int or None, got {fold!r}")
    if version not in SUPPORTED_SEED_VERSIONS:
        raise ValueError(
            f"seed version {version!r} is not supported; "
            f"supported: {sorted(SUPPORTED_SEED_VERSIONS)}"
        )
    material = canonical_bytes(
        {"fold": fold, "run_key": run_key, "salt": COMPONENT_SALTS[component], "version": version}
    )

    return int.from_bytes(hashlib.sha256(material).digest()[:_SEED_BYTES], "big")


def derive_procedure_seed(run_key: str, procedure: str, version: int = SEED_VERSION) -> int:
    """Seed of a statistical procedure selected by name in the report config.

    Keyed by the procedure's name (not its position in the config), so adding or removing another
    procedure never changes this one's stream.
    """
    if not isinstance(procedure, str) or not procedure:
        raise ValueError(f"procedure must be a non-empty string, got {procedure!r}")
    base = derive_seed(run_key, "stat_procedure", version=version)
    material = canonical_bytes({"base": base, "procedure": procedure})
    return int.from_bytes(hashlib.sha256(material).digest()[:_SEED_BYTES], "big")


def make_rng(seed: int) -> np.random.Generator:
    """A PCG64 ``Generator`` from an explicit seed; refusing None keeps fresh entropy out of
    runs."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed must be a non-negative int, got {seed!r}")
    return np.random.Generator(np.random.PCG64(int(seed)))


def rng_for(
    run_key: str, component: str, fold: int | None = None, version: int = SEED_VERSION
) -> np.random.Generator:
    """Shorthand for ``make_rng(derive_seed(...))``."""
    return make_rng(derive_seed(run_key, component, fold, version))
