"""The report's signal store: frames parked on disk come back bit for bit, in the same layout."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from crypto_analyzer.core.errors import CryptoAnalyzerError
from crypto_analyzer.pipeline.report.signal_store import SignalStore


def _frame(order: str) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    values = rng.standard_normal((400, 30))
    values[rng.random(values.shape) < 0.1] = np.nan
    values = np.asarray(values, order=order)  # type: ignore[call-overload]
    frame = pd.DataFrame(
        values, index=pd.RangeIndex(0, 4000, 10), columns=[f"a{i}" for i in range(30)], copy=False
    )
    return frame.rolling(5, min_periods=1).mean() if order == "C" else frame


def _block(frame: pd.DataFrame) -> np.ndarray:
    return frame._mgr.blocks[0].values


@pytest.mark.parametrize("order", ["C", "F"])
def test_a_stored_frame_comes_back_with_the_same_bits_and_memory_layout(order: str) -> None:
    original = _frame(order)
    with SignalStore() as store:
        store.add("s", original)
        back = store["s"]
        again = store["s"]
    assert back.index.equals(original.index) and back.columns.equals(original.columns)
    assert np.array_equal(back.to_numpy(), original.to_numpy(), equal_nan=True)
    assert _block(back).flags.c_contiguous == _block(original).flags.c_contiguous
    assert _block(back).flags.f_contiguous == _block(original).flags.f_contiguous
    # row reductions sum in memory order: same layout, same bits
    assert np.array_equal(back.sum(axis=1).to_numpy(), original.sum(axis=1).to_numpy())
    assert not np.shares_memory(_block(back), _block(again))  # each read is a fresh frame


def test_the_store_keeps_order_and_removes_its_files_on_exit() -> None:
    mixed = pd.DataFrame({"a": [1.0, 2.0], "b": [1, 2]})  # two blocks: kept in memory as is
    with SignalStore() as store:
        store.add("second", _frame("C"))
        store.add("first", mixed)
        root = store._root
        assert [path.name for path in root.iterdir()] == ["0.npy"]
        assert list(store) == ["second", "first"] and len(store) == 2
        assert "second" in store and "third" not in store
        assert store["first"] is mixed
        with pytest.raises(ValueError, match="already stored"):
            store.add("first", mixed)
    assert not root.exists()
    assert len(store) == 0


def test_a_failed_write_names_the_file_and_what_to_do() -> None:
    store = SignalStore()
    shutil.rmtree(store._root)  # the scratch directory vanished (cleaned up, disk unmounted, ...)
    with pytest.raises(CryptoAnalyzerError, match="signal scratch file") as caught:
        store.add("s", _frame("C"))
    assert "TMPDIR" in str(caught.value)
    store.close()


def test_an_error_inside_the_store_removes_its_files() -> None:
    with pytest.raises(RuntimeError, match="stage failed"), SignalStore() as store:
        store.add("s", _frame("C"))
        root = store._root
        assert any(root.iterdir())
        raise RuntimeError("stage failed")
    assert not root.exists()
