"""Bounds of the report config: every value that scales memory or time, named once.

A report config comes from a file or flags that someone else may have written. Without bounds,
``bootstrap_reps = 1e9`` allocates a ``(reps, hypotheses)`` matrix until ``MemoryError``, a circular
block of a billion bars does the same, ``pbo_blocks = 30`` enumerates 155 million CSCV splits, and a
20 MB hypothesis is stored in every run row. The limits are generous — several times what any
research run here uses — and are checked when the config is validated, before any dataset is read
or any run row written. ``docs/report.md`` lists them.
"""

from __future__ import annotations

__all__ = [
    "MAX_BARS",
    "MAX_BLOCK_LENGTH",
    "MAX_BOOTSTRAP_REPS",
    "MAX_CAPITAL",
    "MAX_CAPITAL_GRID",
    "MAX_CPCV_GROUPS",
    "MAX_FOLDS",
    "MAX_HORIZONS",
    "MAX_HYPOTHESIS_CHARS",
    "MAX_MIN_ASSETS",
    "MAX_NAMES_PER_SIDE",
    "MAX_NAME_CHARS",
    "MAX_PBO_BLOCKS",
    "MAX_PROCEDURES",
    "MAX_SIGNALS",
    "MAX_TAGS",
    "MAX_TAG_CHARS",
]

MAX_BARS = 1_000_000
"""Any length in bars (horizon, test/train/purge/embargo, windows, lags, rebalance, half-life,
signal parameters): about 114 years of hourly or 9.5 years of 5-minute bars."""

MAX_BOOTSTRAP_REPS = 50_000
"""Bootstrap draws for Reality Check/SPA/Romano–Wolf (default 1,000). The draws are a
``(reps, hypotheses)`` float matrix: 50,000 × 512 hypotheses is 205 MB."""

MAX_BLOCK_LENGTH = 10_000
"""Mean block length of the bootstrap, in observations (Politis–White picks tens)."""

MAX_PBO_BLOCKS = 16
"""CSCV blocks (even): all C(16, 8) = 12,870 splits are enumerated; more blocks need sampling."""

MAX_SIGNALS = 32
MAX_PROCEDURES = 16
"""Statistical procedures a report config may select beyond the built-in ones."""
MAX_HORIZONS = 16
"""The family is signals × horizons hypotheses: at most 512."""

MAX_NAME_CHARS = 100
"""Length of a signal name (registered names are far shorter; this bounds the error message)."""

MAX_CPCV_GROUPS = 12
"""CPCV groups: C(12, 6) = 924 folds at most."""

MAX_FOLDS = 1_000
"""Walk-forward or CPCV folds, checked against the data (``test_size`` small against a long
history): every fold re-evaluates every signal at every horizon."""

MAX_NAMES_PER_SIDE = 10_000
MAX_MIN_ASSETS = 100_000

MAX_CAPITAL = 1e15
"""Target capital and capital-grid amounts (currency units)."""
MAX_CAPITAL_GRID = 32

MAX_HYPOTHESIS_CHARS = 10_000
MAX_TAGS = 32
MAX_TAG_CHARS = 64
