"""Shared data builders and Hypothesis strategies for the stats tests (test-only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

ORACLE_FILE = Path(__file__).with_name("oracle_vectors.json")


def oracle_vectors(kind: str) -> list[dict[str, Any]]:
    """Stored oracle vectors of one kind (each has id, source, version, tolerance)."""
    data = json.loads(ORACLE_FILE.read_text("utf-8"))
    return [item for item in data["vectors"] if item["kind"] == kind]


class FamilyData(NamedTuple):
    """Benchmark and model losses plus the differentials our API takes."""

    name: str
    benchmark: np.ndarray
    models: np.ndarray
    d: np.ndarray


def ar1(n: int, phi: float, rng: np.random.Generator, cols: int = 1) -> np.ndarray:
    e = rng.standard_normal((n + 50, cols))
    out = np.empty_like(e)
    out[0] = e[0]
    for t in range(1, n + 50):
        out[t] = phi * out[t - 1] + e[t]
    return out[50:]


def family_datasets() -> list[FamilyData]:
    """Five loss families: strongly superior, none superior, mixed, dependent, all superior."""
    out = []
    rng = np.random.default_rng(20240601)
    t, n = 400, 12
    bench = rng.standard_normal(t) + 1.0
    specs = {
        "strong": np.r_[0.6, np.zeros(n - 1)],
        "none": np.r_[np.zeros(4), -np.linspace(0.05, 0.3, n - 4)],
        "mixed": np.r_[0.18, 0.12, 0.0, 0.0, -0.1 * np.ones(n - 4)],
        "dependent": np.r_[0.15, np.zeros(n - 1)],
    }
    for name, gain in specs.items():
        scale = np.linspace(0.6, 1.6, n)
        dependent = name == "dependent"
        noise = ar1(t, 0.4, rng, n) * 0.8 if dependent else rng.standard_normal((t, n))
        models = bench[:, None] + noise * scale - gain
        out.append(FamilyData(name, bench, models, bench[:, None] - models))
    # Every model superior, found over two StepM steps: three strong models fall in step 1 and the
    # weak one (mean exactly 0.1, t ~ 2) only in step 2, the case arch 8.0's StepM raises on.
    noise = rng.standard_normal((t, 4))
    d = noise - noise.mean(axis=0) + np.array([0.8, 0.7, 0.6, 0.1])
    out.append(FamilyData("all_superior", bench, bench[:, None] - d, d))
    return out


finite_floats = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False, width=64)
pvalue_arrays = hnp.arrays(
    np.float64, st.integers(1, 40), elements=st.floats(0.0, 1.0, allow_nan=False)
)


@st.composite
def differential_panels(draw: st.DrawFn) -> np.ndarray:
    """(T, N) differentials with T in [30, 80], N in [1, 6], mild signal per column."""
    t = draw(st.integers(30, 80))
    n = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    shift = draw(hnp.arrays(np.float64, n, elements=st.floats(-0.5, 0.5)))
    return rng.standard_normal((t, n)) + shift
