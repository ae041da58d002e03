"""Canonical JSON: byte-stable, sorted, shortest floats, NaN/Inf refused."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto_analyzer.core.canonical_json import (
    CanonicalJSONError,
    canonical_bytes,
    canonical_dumps,
    canonical_loads,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": [True, None, "x"]}, '{"a":[true,null,"x"],"b":1}'),
        ({"é": 1, "e": 2, "Z": 3}, '{"Z":3,"e":2,"é":1}'),
        (1.0, "1"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (123456789.125, "123456789.125"),
        ('line\nbreak "quoted"', '"line\\nbreak \\"quoted\\""'),
        ([], "[]"),
        ({}, "{}"),
    ],
)
def test_known_encodings(value: object, expected: str) -> None:
    assert canonical_dumps(value) == expected


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, {"x": [1.0, math.nan]}])
def test_non_finite_floats_are_refused_with_their_path(bad: object) -> None:
    with pytest.raises(CanonicalJSONError, match="NaN and Infinity"):
        canonical_dumps(bad)


@pytest.mark.parametrize("bad", [{1: "int key"}, {"s": {1, 2}}, b"bytes", object()])
def test_unsupported_values_are_refused(bad: object) -> None:
    with pytest.raises(CanonicalJSONError):
        canonical_dumps(bad)


def test_loads_refuses_nan_literal() -> None:
    with pytest.raises(CanonicalJSONError, match="NaN"):
        canonical_loads('{"x": NaN}')


@given(json_values)
def test_round_trip_is_byte_stable(value: object) -> None:
    text = canonical_dumps(value)
    again = canonical_dumps(canonical_loads(text))
    assert again == text
    assert canonical_bytes(value) == text.encode("utf-8")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_round_trip_exactly(value: float) -> None:
    assert json.loads(canonical_dumps(value)) == value


@given(st.dictionaries(st.text(max_size=6), st.integers(), max_size=8))
def test_key_order_does_not_matter(mapping: dict[str, int]) -> None:
    reversed_mapping = dict(reversed(list(mapping.items())))
    assert canonical_dumps(mapping) == canonical_dumps(reversed_mapping)
