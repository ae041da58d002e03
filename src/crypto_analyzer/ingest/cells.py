"""Cell type codes for object columns, computed in one C-level pass of ``type`` over a column.

Payload columns hold whatever the wire carried (numbers, text, null, nested objects, junk).
Validation rules need to know which cells are numbers or text before they can compare values;
these helpers answer that for a whole column at once, so no rule runs Python code per row.
"""

from __future__ import annotations

import math
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DICT", "MISSING", "NUMBER", "OTHER", "TEXT", "floats", "kinds", "non_empty_text"]

MISSING, NUMBER, TEXT, DICT, OTHER = 0, 1, 2, 3, 4
_KIND_OF: dict[type, int] = {
    type(None): MISSING,
    type(pd.NA): MISSING,
    int: NUMBER,
    float: NUMBER,
    str: TEXT,
    dict: DICT,
    **dict.fromkeys((np.float64, np.float32, np.int64, np.int32, np.int16, np.int8), NUMBER),
    **dict.fromkeys((np.uint64, np.uint32, np.uint16, np.uint8), NUMBER),
}
"""``bool`` is deliberately absent: ``True`` is not a price."""


def kinds(values: np.ndarray) -> np.ndarray:
    """Type code per cell of an object array."""
    return np.fromiter(
        map(_KIND_OF.get, map(type, values), repeat(OTHER)), dtype=np.int8, count=len(values)
    )


def non_empty_text(values: np.ndarray) -> np.ndarray:
    """True where the cell is a non-empty string."""
    text = kinds(values) == TEXT
    if text.any():
        text[text] = np.fromiter(map(len, values[text]), dtype=np.int64) > 0
    return text


def floats(values: np.ndarray) -> np.ndarray:
    """Number cells to float64; integers too large for a double become ±inf."""
    try:
        return np.array(values, dtype=np.float64)
    except OverflowError:
        return np.array([_big(value) for value in values], dtype=np.float64)


def _big(value: Any) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
