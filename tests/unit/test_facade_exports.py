"""The facade's public names: listed once, all resolvable, and ``import crypto_analyzer`` stays
cheap (nothing heavy is imported until a facade name is used)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import crypto_analyzer as ca
from crypto_analyzer.facade import PUBLIC

EXPECTED = {"Workspace", "open_workspace", "ReportConfig", "SyntheticMarketConfig", "statistics"}


def test_the_public_names_are_the_listed_ones_and_all_resolve() -> None:
    assert set(PUBLIC) == EXPECTED
    assert ca.__all__ == ["__version__", *PUBLIC]
    for name in PUBLIC:
        assert getattr(ca, name) is not None, name
        assert name in dir(ca)
    assert ca.statistics.__name__ == "crypto_analyzer.facade.statistics"
    assert ca.ReportConfig.__name__ == "ReportConfig"
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = ca.nothing_here


def test_the_statistics_module_lists_what_it_defines() -> None:
    for name in ca.statistics.__all__:
        assert callable(getattr(ca.statistics, name)), name


def test_importing_the_package_imports_nothing_heavy() -> None:
    code = (
        "import sys, crypto_analyzer as ca; "
        "heavy = [m for m in ('pandas', 'sqlalchemy', 'scipy', 'crypto_analyzer.pipeline') "
        "if m in sys.modules]; print(heavy); ca.open_workspace; "
        "print('crypto_analyzer.pipeline' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "True"], done.stdout


def test_statistics_keep_pandas_labels() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.standard_normal((300, 3)) * 0.1 + [0.05, 0.0, -0.01],
                         columns=["a@1", "b@1", "c@4"])  # fmt: skip
    hac = ca.statistics.newey_west(frame)
    assert list(hac.index) == ["a@1", "b@1", "c@4"] and {"mean", "se", "t"} <= set(hac.columns)
    assert hac.loc["a@1", "mean"] == pytest.approx(frame["a@1"].mean())
    adjusted = ca.statistics.adjust_pvalues(hac["p_value"], method="holm")
    assert list(adjusted.index) == ["a@1", "b@1", "c@4"]
    assert (adjusted["adjusted"] >= adjusted["pvalue"]).all()
    step = ca.statistics.stepm(frame, seed=3, reps=200)
    assert tuple(step.hypothesis_ids) == ("a@1", "b@1", "c@4")
    assert set(step.rejected) <= {"a@1", "b@1", "c@4"} and "a@1" in step.rejected
    # numpy in, the plain result out
    plain = ca.statistics.newey_west(frame["a@1"].to_numpy())
    assert plain.mean == pytest.approx(hac.loc["a@1", "mean"])
    psr = ca.statistics.probabilistic_sharpe_ratio(frame)
    assert list(psr.index) == ["a@1", "b@1", "c@4"]
