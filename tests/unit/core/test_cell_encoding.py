"""Column digests: type tags matter, chunking does not, fast and general paths agree."""

from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto_analyzer.core.cell_encoding import ColumnDigest, UnsupportedCellError

cells = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=6),
    st.binary(max_size=6),
    st.booleans(),
)


def _digest(values: list[object], chunk: int | None = None) -> str:
    digest = ColumnDigest()
    size = chunk or max(len(values), 1)
    for start in range(0, len(values), size):
        digest.update(values[start : start + size])
    return digest.hexdigest()


def _general(values: list[object]) -> str:
    digest = ColumnDigest()
    digest._update_mixed(values)  # the per-cell reference path
    digest.count += len(values)
    return digest.hexdigest()


@pytest.mark.parametrize(
    ("left", "right"),
    [([1], [1.0]), ([1], ["1"]), ([1.0], ["1"]), ([1], [True]), ([None], [""]), ([b"a"], ["a"]),
     (["ab", "c"], ["a", "bc"]), ([0.0], [-0.0]), ([1, None], [None, 1])],
)  # fmt: skip
def test_type_and_boundaries_change_the_digest(left: list[object], right: list[object]) -> None:
    assert _digest(left) != _digest(right)


@given(st.lists(cells, max_size=40), st.integers(min_value=1, max_value=7))
def test_chunking_does_not_matter(values: list[object], chunk: int) -> None:
    assert _digest(values, chunk) == _digest(values)


@given(
    st.one_of(
        st.lists(st.floats(allow_nan=False), max_size=30),
        st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=30),
        st.lists(st.text(max_size=5), max_size=30),
        st.lists(st.none(), max_size=5),
        st.lists(st.one_of(st.none(), st.floats()), max_size=30),
        st.lists(st.one_of(st.none(), st.integers(-(2**70), 2**70)), max_size=30),
        st.lists(st.one_of(st.none(), st.text(max_size=5)), max_size=30),
    )
)
def test_vectorised_paths_equal_the_per_cell_path(values: list[object]) -> None:
    assert _digest(values) == _general(values)


@given(
    st.one_of(
        st.lists(st.one_of(st.none(), st.floats(allow_nan=False)), max_size=30),
        st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=30),
        st.lists(st.one_of(st.none(), st.text(max_size=5)), max_size=30),
        st.lists(st.one_of(st.none(), st.binary(max_size=5)), max_size=30),
    ),
    st.integers(min_value=0, max_value=3),
)
def test_arrow_path_equals_the_python_path(values: list[object], offset: int) -> None:
    array = pa.array([None] * offset + values)[offset:]  # sliced arrays have a non-zero offset
    digest = ColumnDigest()
    digest.update_arrow(array)
    assert digest.hexdigest() == _digest(values)
    assert digest.count == len(values)


def test_big_integers_and_other_scalars_are_encoded() -> None:
    values = [
        2**80,
        decimal.Decimal("1.50"),
        dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        dt.date(2024, 1, 1),
    ]
    assert _digest(values) != _digest([2**80 + 1, *values[1:]])
    assert _digest(values) == _digest(list(values))


def test_unknown_types_are_refused() -> None:
    with pytest.raises(UnsupportedCellError, match="no identity encoding"):
        _digest([object()])
