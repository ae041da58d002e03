"""Caveats from the calibration table: which report statistics are miscalibrated on dependent data.

``docs/calibration.md`` (``crypto-analyzer stats calibrate``) measures each test's rejection rate
under the null on iid, AR(1) and GARCH data. Where the AR(1) rate falls outside the binomial band,
the report prints the caveat beside the statistic, so nobody reads a p-value as exact when the
table shows it is not. ``tests/unit/pipeline/test_report_caveats.py`` keeps this mapping equal to
the table.
"""

from __future__ import annotations

__all__ = ["CALIBRATION_ALPHA", "DEPENDENT_SIZE", "RULE_TESTS", "caveat", "caveats", "rule_caveat"]

CALIBRATION_ALPHA = 0.05

DEPENDENT_SIZE: dict[str, float] = {
    "hac_t": 0.107,
    "psr": 0.195,
    "dsr": 0.019,
    "reality_check": 0.114,
    "spa": 0.180,
    "stepm": 0.108,
    "by": 0.013,
}
"""Rejection rate under the null on AR(1) data, per test outside the 99 % band (α = 0.05)."""

_WHAT = {
    "hac_t": "HAC t",
    "psr": "PSR",
    "dsr": "DSR",
    "reality_check": "Reality Check p",
    "spa": "SPA p",
    "stepm": "Romano–Wolf p",
    "by": "BY p",
    "cusum": "CUSUM p",
    "sup_f": "sup-F break p",
}


def caveat(test: str) -> str | None:
    """The caveat of ``test`` (a calibration-table name), or ``None`` when it is calibrated."""
    size = DEPENDENT_SIZE.get(test)
    if size is None:
        return None
    direction = "over-rejects" if size > CALIBRATION_ALPHA else "is conservative"
    return (
        f"{_WHAT[test]} {direction} on autocorrelated data: null rejection rate {size:.3f} at "
        f"α = {CALIBRATION_ALPHA:g} under AR(1) in the calibration table (docs/calibration.md)"
    )


def caveats() -> dict[str, str]:
    """Every caveat, keyed by calibration-table test name."""
    return {test: text for test in DEPENDENT_SIZE if (text := caveat(test)) is not None}


RULE_TESTS: dict[str, tuple[str, ...]] = {
    "effect.hac_t": ("hac_t",),
    "effect.dsr": ("dsr",),
    "history.dsr": ("dsr",),
    "snooping.family_p": ("reality_check", "spa"),
    "snooping.romano_wolf": ("stepm",),
}
"""Policy rules whose statistic has a row in the calibration table."""


def rule_caveat(rule: str) -> str | None:
    """The caveats of the statistics a policy rule reads, joined (``None`` when calibrated)."""
    texts = [text for test in RULE_TESTS.get(rule, ()) if (text := caveat(test)) is not None]
    return "; ".join(texts) if texts else None
