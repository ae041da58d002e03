"""BH / BY / Holm: statsmodels oracle to 1e-12, the BH (1995) example, validation."""

from __future__ import annotations

import numpy as np
import pytest
from stats_helpers import oracle_vectors
from statsmodels.stats.multitest import multipletests

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.stats import (
    adjust_pvalues,
    benjamini_hochberg,
    benjamini_yekutieli,
    holm,
)

METHODS = {"bh": "fdr_bh", "by": "fdr_by", "holm": "holm"}


def _cases() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    cases = [rng.random(m) ** k for m in (1, 2, 5, 50, 400) for k in (1, 4)]
    tied = rng.random(30)
    tied[5:12] = tied[3]
    cases += [tied, np.array([0.0, 1.0, 0.5, 0.5, 0.0]), np.full(7, 0.01)]
    return cases


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("case", range(13))
def test_equals_statsmodels_multipletests(method: str, case: int) -> None:
    p = _cases()[case]
    ours = adjust_pvalues(p, method=method, alpha=0.1)
    reject, corrected, _, _ = multipletests(p, alpha=0.1, method=METHODS[method])
    np.testing.assert_allclose(ours.adjusted, corrected, rtol=0, atol=1e-12)
    assert list(ours.rejected) == [bool(x) for x in reject]


@pytest.mark.parametrize("vector", oracle_vectors("bh"), ids=lambda v: v["id"])
def test_benjamini_hochberg_paper_example(vector: dict) -> None:
    res = benjamini_hochberg(np.array(vector["inputs"]["pvalues"]), alpha=vector["inputs"]["alpha"])
    assert sum(res.rejected) == vector["expected"]["n_rejected"]


def test_hand_worked_small_family() -> None:
    # p = (0.01, 0.04, 0.03): sorted 0.01, 0.03, 0.04 -> BH raw 0.03, 0.045, 0.04 -> step-up
    # min from the top: 0.03, 0.04, 0.04. Holm: 0.03, 0.06, 0.06 (max-accumulated).
    p = np.array([0.01, 0.04, 0.03])
    np.testing.assert_allclose(benjamini_hochberg(p).adjusted, [0.03, 0.04, 0.04])
    np.testing.assert_allclose(holm(p).adjusted, [0.03, 0.06, 0.06])
    c = 1 + 1 / 2 + 1 / 3
    np.testing.assert_allclose(
        benjamini_yekutieli(p).adjusted, np.minimum(1, np.array([0.03, 0.04, 0.04]) * c)
    )


def test_result_fields_and_ids() -> None:
    res = holm(np.array([0.2, 0.001]), hypothesis_ids=["a", "b"])
    assert res.method == "holm" and res.hypothesis_ids == ("a", "b")
    assert res.rejected == (False, True)
    canonical_dumps(res.to_dict())


@pytest.mark.parametrize(
    ("p", "kwargs", "error", "match"),
    [
        (np.array([0.1, 1.2]), {}, ValueError, r"pvalues must lie in \[0, 1\]"),
        (np.array([0.1, np.nan]), {}, ValueError, "NaN"),
        (np.array([]), {}, ValueError, "at least one"),
        (np.array([0.1]), {"method": "bonf"}, ValueError, "method must be one of"),
        (np.array([0.1]), {"alpha": 1.0}, ValueError, "alpha must lie in"),
        ([0.1, 0.2], {}, TypeError, "pvalues must be a numpy.ndarray"),
        (np.array([0.1, 0.2]), {"hypothesis_ids": ["a"]}, ValueError, "2 hypotheses"),
    ],
)
def test_validation(p: object, kwargs: dict, error: type, match: str) -> None:
    kwargs = {"method": "bh", **kwargs}
    with pytest.raises(error, match=match):
        adjust_pvalues(p, **kwargs)  # type: ignore[arg-type]
