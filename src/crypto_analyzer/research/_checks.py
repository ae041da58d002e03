"""Shared argument checks for the research layer.

Each public function validates its arguments in one ``_<fn>_iv`` helper that calls these. They raise
``TypeError`` for the wrong kind of object and ``ValueError`` for a wrong value, and every message
names the parameter, the value received and what is allowed, so a caller can fix the call from the
message alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__: list[str] = []


def check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """An ``int`` (not ``bool``) at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_float(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
) -> float:
    """A finite real number inside the allowed interval."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    out = float(value)
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if minimum is not None and (out <= minimum if strict_min else out < minimum):
        op = ">" if strict_min else ">="
        raise ValueError(f"{name} must be {op} {minimum}, got {value!r}")
    if maximum is not None and out > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return out


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """One of a fixed set of strings."""
    options = tuple(allowed)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {options}, got {type(value).__name__}")
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def check_horizons(name: str, value: Any) -> tuple[int, ...]:
    """A non-empty sequence of distinct positive ints, returned sorted."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a sequence of ints, got {type(value).__name__}")
    if len(value) == 0:
        raise ValueError(f"{name} must not be empty, got {value!r}")
    out = [check_int(f"{name}[{i}]", h, minimum=1) for i, h in enumerate(value)]
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must not repeat a horizon, got {value!r}")
    return tuple(sorted(out))


def check_frame(name: str, value: Any, *, allow_inf: bool = False) -> pd.DataFrame:
    """A numeric (time x asset) DataFrame with a unique increasing index and unique columns."""
    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame (time x asset), got {type(value)}")
    if not value.index.is_unique or not value.index.is_monotonic_increasing:
        raise ValueError(f"{name} must have a unique, increasing time index")
    if not value.columns.is_unique:
        raise ValueError(f"{name} must have unique asset columns")
    kinds = {dtype.kind for dtype in value.dtypes}
    if not kinds <= {"f", "i", "u", "b"}:
        raise TypeError(f"{name} must hold numeric columns, got dtypes {sorted(kinds)}")
    if not allow_inf and value.size and np.isinf(value.to_numpy(dtype=float)).any():
        raise ValueError(f"{name} contains +/-inf; use NaN for missing values")
    return value


def check_aligned(name: str, value: pd.DataFrame, ref_name: str, ref: pd.DataFrame) -> None:
    """``value`` has exactly the index and columns of ``ref``."""
    if not value.index.equals(ref.index) or not value.columns.equals(ref.columns):
        raise ValueError(
            f"{name} must be aligned with {ref_name} (same time index and asset columns); got "
            f"shape {value.shape} vs {ref.shape}"
        )


def as_float_array(frame: pd.DataFrame) -> np.ndarray:
    """Float64 array of a frame (often a column-major view); non-finite values become NaN.

    pandas stores a frame's columns as the rows of its blocks, so ``to_numpy`` usually returns a
    column-major view. The row-wise kernels lay their first working copy out row-major, which
    fuses the transposition with work they do anyway instead of paying an extra copy here.
    """
    arr = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(arr).any():  # NaN is already NaN: only an infinity needs a (panel-sized) copy
        arr = np.where(np.isfinite(arr), arr, np.nan)
    return arr
