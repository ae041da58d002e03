"""Public surface of crypto_analyzer.stats, summaries and the import direction of stats/."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import numpy as np

import crypto_analyzer.stats as stats
from crypto_analyzer.core.canonical_json import canonical_dumps

STATS_DIR = Path(stats.__file__).parent
FORBIDDEN = ("arch", "statsmodels", "alphalens", "pandas", "sqlalchemy")


def test_all_lists_exactly_the_public_names_sorted() -> None:
    public = {
        name
        for name, value in vars(stats).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name != "annotations"
    }
    assert set(stats.__all__) == public
    assert list(stats.__all__) == sorted(stats.__all__, key=lambda s: (not s.isupper(), s))


def test_stats_is_pure() -> None:
    for path in STATS_DIR.glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                root = name.split(".")[0]
                assert root not in FORBIDDEN, (path.name, name)
                if name.startswith("crypto_analyzer."):
                    assert name.split(".")[1] in {"core", "stats"}, (path.name, name)
        text = path.read_text("utf-8")
        assert "np.random.seed" not in text and "np.random.default_rng(" not in text
        assert len(text.splitlines()) <= 420, path.name


def test_modules_declare_all() -> None:
    for path in STATS_DIR.glob("*.py"):
        assert "__all__" in path.read_text("utf-8"), path.name


def test_summaries_are_schema_versioned_canonical_json() -> None:
    rng = np.random.default_rng(0)
    d = rng.standard_normal((120, 4))
    fam = stats.family_tests(d, seed=1, reps=50)
    pbo = stats.pbo_cscv(d, n_blocks=4)
    overview = stats.stats_overview(
        hac=stats.newey_west(d[:, 0]),
        psr=stats.probabilistic_sharpe_ratio(d[:, 0]),
        dsr=stats.deflated_sharpe_ratio(d[:, 0], trial_sharpes=d.mean(0) / d.std(0, ddof=1)),
        pbo=pbo,
        family=fam,
        multiple_testing=stats.benjamini_hochberg(np.array([0.01, 0.2])),
    )
    for summary in (
        overview,
        overview["family"],
        overview["pbo"],
        stats.family_summary(spa=fam.spa),
    ):
        assert summary["schema_version"] == stats.SCHEMA_VERSION
        assert isinstance(summary["schema"], str)
    canonical_dumps(overview)
    assert stats.stats_overview()["hac"] is None
