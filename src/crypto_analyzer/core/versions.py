"""Version constants that enter identities.

Bumping any of these changes every run key (engine/spec) or every seed (seed version) on purpose: a
result computed by different code or a different research spec is a different result.
"""

from __future__ import annotations

__all__ = ["DATASET_ID_VERSION", "ENGINE_VERSION", "SEED_VERSION", "SPEC_VERSION"]

ENGINE_VERSION = "0.1.0"
"""The package version; also the engine version recorded in run keys and bundles."""

SPEC_VERSION = "1"
"""Version of the research specification (what a report computes and how)."""

SEED_VERSION = 2
"""Version of the seed scheme: the derivation in :mod:`crypto_analyzer.core.seeding` plus the way
the seeded streams are consumed. 2: block bootstraps draw (start, length) pairs per block instead of
a decision at every position (same distribution, different numbers for the same seed). 1: the
original per-position draws."""

DATASET_ID_VERSION = 1
"""Version of the dataset identity encoding in :mod:`crypto_analyzer.core.cell_encoding`."""
