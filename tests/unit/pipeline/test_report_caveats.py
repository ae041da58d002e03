"""The report's calibration caveats are the tests docs/calibration.md marks on AR(1) data."""

from __future__ import annotations

import re
from pathlib import Path

from crypto_analyzer.pipeline.report.caveats import DEPENDENT_SIZE, caveat, caveats

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
    assert "over-rejects" in texts["hac_t"] and "0.093" in texts["hac_t"]
    assert "conservative" in texts["dsr"]
    assert caveat("bh") is None  # calibrated on dependent data: no caveat
