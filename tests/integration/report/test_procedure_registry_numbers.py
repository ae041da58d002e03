"""The move of the report's statistics to the procedure registry changed no number.

The code of the commit just before the move is taken from git (``git archive``) into a temporary
directory; the same script (``report_numbers.py``: a small report computation with a pinned run
key, every statistic, seed, artifact summary and bundle evidence as canonical JSON) runs once on
that code and once on the current code, and the two outputs must be byte-identical. The only
additions of the registry — the manifest in the resolved config and the generic ``procedures``
field — are outside what the script prints (the field is empty without selected procedures, and
the bundle bytes then leave it out: ``tests/unit/governance/test_gov_procedure_rules.py``).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from plugin_install import REPO

BEFORE_REGISTRY = "1641016ab182302d329a23bd2f25c3a57b0b1c46"
"""Last commit whose report called the statistics directly: issue 15's report with issue 20's
kernels (seed version 2), so both sides draw the same bootstrap samples."""
CUSUM_LAG_CHANGE = "bd6374f5aa6ffbb6608f96c2be55898677a08230"
"""A later, deliberate change of one number (CUSUM's long-run-variance lag). Its three files are
identical at ``BEFORE_REGISTRY`` and at its parent, so laying them over the old tree applies
exactly that change and nothing else; every other number still comes from the pre-registry code."""
CUSUM_LAG_FILES = ("stats/cusum.py", "stats/hac.py", "stats/supf.py")
SCRIPT = Path(__file__).resolve().parent / "report_numbers.py"


def _numbers(src: Path) -> bytes:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, env=env, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return done.stdout


def test_report_numbers_are_byte_identical_before_and_after_the_registry(tmp_path: Path) -> None:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", BEFORE_REGISTRY, "src"],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tmp_path, filter="data")
    before = tmp_path / "src"
    for name in CUSUM_LAG_FILES:
        path = f"src/crypto_analyzer/{name}"
        shown = subprocess.run(
            ["git", "-C", str(REPO), "show", f"{CUSUM_LAG_CHANGE}:{path}"],
            capture_output=True, check=True, timeout=60,
        )  # fmt: skip
        (tmp_path / path).write_bytes(shown.stdout)
    assert not (before / "crypto_analyzer" / "stats" / "procedures").exists()
    old, new = _numbers(before), _numbers(REPO / "src")
    assert b'"rc_p":' in new and b'"sup_f":' in new and b'"dsr":' in new  # numbers are there
    assert old == new
