"""Private conversion of result fields to canonical-JSON-compatible plain types."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__: list[str] = []


def plain(value: Any) -> Any:
    """Recursively convert numpy values, tuples and dataclasses; NaN and +/-inf become ``None``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        out = float(value)
        return out if math.isfinite(out) else None
    if isinstance(value, np.ndarray):
        return [plain(item) for item in value.tolist()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return {field.name: plain(getattr(value, field.name)) for field in fields}
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    raise TypeError(f"cannot convert {type(value).__name__} to a plain JSON value")


def frozen_array(values: Any, dtype: type = np.float64) -> np.ndarray:
    """A read-only copy, so that frozen results cannot be mutated through their arrays."""
    out: np.ndarray = np.array(values, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out
