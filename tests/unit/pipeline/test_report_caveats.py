"""The report's calibration caveats are the tests docs/calibration.md marks on AR(1) data."""

from __future__ import annotations

import re
from pathlib import Path

from crypto_analyzer.pipeline.report.caveats import (
    DEPENDENT_SIZE,
    RULE_TESTS,
    caveat,
    caveats,
    rule_caveat,
)

TABLE = Path(__file__).resolve().parents[3] / "docs" / "calibration.md"


def _ar1_outside_band() -> dict[str, float]:
    text = TABLE.read_text(encoding="utf-8")
    size = text.split("## Size", 1)[1].split("## Power", 1)[0]
    out = {}
    for line in size.splitlines():
        match = re.match(r"\|\s*(\w+)\s*\|\s*[\d.]+ \*?\s*\|\s*([\d.]+)( \*)?\s*\|", line)
        if match and match.group(3):
            out[match.group(1)] = float(match.group(2))
    return out


def test_caveats_match_the_calibration_table() -> None:
    table = _ar1_outside_band()
    assert table, "no AR(1) row outside the band was parsed"
    assert table == DEPENDENT_SIZE
    texts = caveats()
    assert set(texts) == set(table)
    assert "over-rejects" in texts["hac_t"] and "0.107" in texts["hac_t"]
    assert "conservative" in texts["dsr"]
    assert caveat("bh") is None  # calibrated on dependent data: no caveat


def test_policy_rules_carry_the_caveats_of_their_statistics() -> None:
    assert all(test in DEPENDENT_SIZE for tests in RULE_TESTS.values() for test in tests)
    family = rule_caveat("snooping.family_p")
    assert family is not None and "Reality Check" in family and "SPA" in family
    assert rule_caveat("effect.bh_p") is None and rule_caveat("sample.min_assets") is None
