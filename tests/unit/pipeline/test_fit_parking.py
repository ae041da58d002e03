"""Parked factor-fit grids: the same bits and layout, read from mapped files that leave nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crypto_analyzer.core.errors import CryptoAnalyzerError
from crypto_analyzer.pipeline.fit_parking import (
    PARK_MIN_BYTES,
    ScratchFitOutputs,
    park_unread_fit_parts,
    release_parked_pages,
    select_and_park,
)
from crypto_analyzer.research import fit_factor_model, signal_names
from crypto_analyzer.research.signal_registry import compute_signal


def _returns() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    factors = rng.standard_normal((600, 2)) * 0.01
    assets = factors @ rng.standard_normal((2, 12)) + rng.standard_normal((600, 12)) * 0.01
    values = np.hstack([factors, assets])
    values[rng.random(values.shape) < 0.03] = np.nan
    columns = ["btc", "eth", *(f"a{i:02d}" for i in range(12))]
    return pd.DataFrame(values, index=pd.RangeIndex(0, 600 * 3600_000, 3600_000), columns=columns)


def _grids(fit) -> list[pd.DataFrame]:  # type: ignore[no-untyped-def]
    return [*fit.betas.values(), fit.alpha, fit.r2, fit.n_obs, fit.residuals]


def _block(frame: pd.DataFrame) -> np.ndarray:
    return frame._mgr.blocks[0].values


def _is_mapped(values: np.ndarray) -> bool:
    base: object = values
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap):
            return True
        base = base.base
    return False


def test_parked_grids_have_the_fits_bits_and_memory_order_and_leave_no_files(
    tmp_path: Path,
) -> None:
    fit = fit_factor_model(_returns(), factor_ids=["btc", "eth"], window=48, lag=1)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    parked = park_unread_fit_parts(fit, directory=scratch, min_bytes=0)
    for before, after in zip(_grids(fit), _grids(parked), strict=True):
        assert after.index.equals(before.index) and after.columns.equals(before.columns)
        assert np.array_equal(after.to_numpy(), before.to_numpy(), equal_nan=True)
        assert _block(after).flags.f_contiguous == _block(before).flags.f_contiguous
        assert _block(after).flags.c_contiguous == _block(before).flags.c_contiguous
    assert parked.residuals is fit.residuals  # what the built-in signals read stays in memory
    assert _is_mapped(_block(parked.alpha))  # the rest is mapped, not copied
    assert not _is_mapped(_block(parked.residuals))
    assert parked.config == fit.config
    assert list(scratch.iterdir()) == []  # unlinked once mapped: nothing to clean up later


def test_a_parked_grid_can_be_changed_in_memory_without_writing_back(tmp_path: Path) -> None:
    fit = fit_factor_model(_returns(), factor_ids=["btc", "eth"], window=48, lag=1)
    parked = park_unread_fit_parts(fit, directory=tmp_path, min_bytes=0)
    values = _block(parked.alpha)
    values[0, 0] = 123.0  # copy-on-write mapping: writable, private
    assert values[0, 0] == 123.0
    assert np.isnan(fit.alpha.iloc[0, 0])


def test_signals_from_a_parked_fit_equal_those_from_the_fit(tmp_path: Path) -> None:
    from crypto_analyzer.research import panel_from_bars

    returns = _returns()
    close = np.exp(returns.fillna(0.0).cumsum())
    bars = close.stack().rename("close").reset_index()
    bars.columns = pd.Index(["bar_open_ms", "instrument_id", "close"])
    for name in ("open", "high", "low"):
        bars[name] = bars["close"]
    bars["volume"] = 1.0
    panel = panel_from_bars(bars)
    fit = fit_factor_model(panel.log_returns, factor_ids=["btc", "eth"], window=48, lag=1)
    parked = park_unread_fit_parts(fit, directory=tmp_path, min_bytes=0)
    needing_fit = [name for name in signal_names() if name in ("clean_momentum", "value_vs_beta")]
    assert needing_fit
    for name in needing_fit:
        expected = compute_signal(name, panel, factor_fit=fit)
        found = compute_signal(name, panel, factor_fit=parked)
        assert np.array_equal(found.to_numpy(), expected.to_numpy(), equal_nan=True)


def test_an_unusable_scratch_directory_is_a_clear_error(tmp_path: Path) -> None:
    fit = fit_factor_model(_returns(), factor_ids=["btc", "eth"], window=48, lag=1)
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    with pytest.raises(CryptoAnalyzerError, match="factor fit scratch") as caught:
        park_unread_fit_parts(fit, directory=not_a_directory, min_bytes=0)
    assert "TMPDIR" in str(caught.value)


def _resident_kb(values: np.ndarray) -> int:
    """Resident size of the mapping that holds ``values`` (Linux ``/proc/self/smaps``)."""
    address = values.__array_interface__["data"][0]
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            low, high = (int(part, 16) for part in head.split("-"))
            inside = low <= address < high
        elif inside and head == "Rss:":
            return int(line.split()[1])
    raise AssertionError("no mapping holds the array")


def test_released_pages_leave_memory_and_come_back_with_the_same_values(tmp_path: Path) -> None:
    fit = fit_factor_model(_returns(), factor_ids=["btc", "eth"], window=48, lag=1)
    parked = park_unread_fit_parts(fit, directory=tmp_path, min_bytes=0)
    expected = fit.alpha.to_numpy().copy()
    values = _block(parked.alpha)
    assert np.array_equal(values.T, expected, equal_nan=True)  # read: the pages are resident
    assert _resident_kb(values) > 0
    release_parked_pages(parked)
    assert _resident_kb(values) == 0
    assert np.array_equal(parked.alpha.to_numpy(), expected, equal_nan=True)  # faulted back in
    assert (
        park_unread_fit_parts(parked, directory=tmp_path, min_bytes=0).alpha is parked.alpha
    )  # idempotent


@pytest.mark.parametrize("with_counts", [True, False])
def test_a_fit_into_scratch_outputs_has_the_in_memory_bits_and_holds_no_pages(
    tmp_path: Path, with_counts: bool
) -> None:
    returns = _returns()
    expected = fit_factor_model(
        returns, factor_ids=["btc", "eth"], window=48, lag=3, with_counts=with_counts
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    found = fit_factor_model(
        returns,
        factor_ids=["btc", "eth"],
        window=48,
        lag=3,
        with_counts=with_counts,
        outputs=ScratchFitOutputs(scratch, min_bytes=0),
    )
    pairs = [*zip(expected.betas.values(), found.betas.values(), strict=True)]
    pairs += [(expected.alpha, found.alpha), (expected.r2, found.r2)]
    if with_counts:
        pairs.append((expected.n_obs, found.n_obs))
    for _, after in pairs:  # before anything reads them: written, then handed back
        assert _is_mapped(_block(after)) and _resident_kb(_block(after)) == 0
    for before, after in [*pairs, (expected.residuals, found.residuals)]:
        assert after.index.equals(before.index) and after.columns.equals(before.columns)
        assert np.array_equal(after.to_numpy(), before.to_numpy(), equal_nan=True)
        assert _block(after).flags.f_contiguous == _block(before).flags.f_contiguous
    assert not _is_mapped(_block(found.residuals))
    assert park_unread_fit_parts(found, directory=scratch, min_bytes=0).alpha is found.alpha
    assert list(scratch.iterdir()) == []


def test_scratch_outputs_in_an_unusable_directory_are_a_clear_error(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    with pytest.raises(CryptoAnalyzerError, match="factor fit scratch") as caught:
        fit_factor_model(
            _returns(),
            factor_ids=["btc", "eth"],
            window=48,
            outputs=ScratchFitOutputs(not_a_directory, min_bytes=0),
        )
    assert "TMPDIR" in str(caught.value)


def test_outputs_that_give_the_wrong_grid_are_refused() -> None:
    class COrder:
        def grid(self, name: object, shape: tuple[int, int]) -> np.ndarray:
            return np.empty(shape)  # row-major: not the layout the fit's frames have

        def block_done(self) -> None:
            pass

    with pytest.raises(ValueError, match="Fortran order"):
        fit_factor_model(_returns(), factor_ids=["btc", "eth"], window=48, outputs=COrder())


def test_a_fit_file_decoded_into_scratch_outputs_equals_the_plain_decode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    import crypto_analyzer.artifacts.factor_fit_file as fit_file
    from crypto_analyzer.db.factor_runs import FactorFrames

    fit = fit_factor_model(_returns(), factor_ids=["btc", "eth"], window=48, lag=1)
    frames = FactorFrames(fit.betas, fit.alpha, fit.r2, fit.residuals)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with io.BytesIO() as sink:
        monkeypatch.setattr(fit_file, "FILE_BLOCK_CELLS", 1000)  # several record batches
        fit_file.write_factor_fit(frames, sink)
        data = sink.getvalue()
    plain, plain_digest = fit_file.decode_factor_fit(data, source="test")
    outputs = ScratchFitOutputs(scratch, min_bytes=0)
    parked, parked_digest = fit_file.decode_factor_fit(
        io.BytesIO(data), source="test", allocate=outputs.flat, between_blocks=outputs.block_done
    )
    assert parked_digest == plain_digest
    mapped = [*parked.betas.values(), parked.alpha, parked.r2]
    for frame in mapped:  # decoded, hashed, and handed back to the file
        assert _is_mapped(_block(frame)) and _resident_kb(_block(frame)) == 0
    assert not _is_mapped(_block(parked.residuals))
    pairs = [*zip(plain.betas.values(), parked.betas.values(), strict=True)]
    pairs += [(plain.alpha, parked.alpha), (plain.r2, parked.r2)]
    for before, after in [*pairs, (plain.residuals, parked.residuals)]:
        assert np.array_equal(after.to_numpy(), before.to_numpy(), equal_nan=True)
        assert _block(after).flags.c_contiguous == _block(before).flags.c_contiguous
    assert list(scratch.iterdir()) == []


def test_grids_below_the_size_floor_stay_in_memory(tmp_path: Path) -> None:
    fit = fit_factor_model(_returns(), factor_ids=["btc", "eth"], window=48, lag=1)
    assert fit.alpha.to_numpy().nbytes < PARK_MIN_BYTES
    assert park_unread_fit_parts(fit, directory=tmp_path).alpha is fit.alpha
    small = fit_factor_model(
        _returns(), factor_ids=["btc", "eth"], window=48, outputs=ScratchFitOutputs(tmp_path)
    )
    assert not any(_is_mapped(_block(frame)) for frame in [small.alpha, *small.betas.values()])
    # one cell over the floor is parked
    cells = fit.alpha.size
    parked = park_unread_fit_parts(fit, directory=tmp_path, min_bytes=8 * cells)
    assert _is_mapped(_block(parked.alpha))
    kept = park_unread_fit_parts(fit, directory=tmp_path, min_bytes=8 * cells + 1)
    assert kept.alpha is fit.alpha


@pytest.mark.parametrize("narrower", [True, False])
def test_select_and_park_equals_select_assets_then_park(tmp_path: Path, narrower: bool) -> None:
    fit = fit_factor_model(_returns(), factor_ids=["btc", "eth"], window=48, lag=1)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    source = park_unread_fit_parts(fit, directory=scratch, min_bytes=0)
    assets = ["a07", "a02", "a11"] if narrower else list(fit.residuals.columns)
    expected = fit.select_assets(assets)
    found = select_and_park(source, assets, directory=scratch, min_bytes=0)
    pairs = [*zip(expected.betas.values(), found.betas.values(), strict=True)]
    pairs += [(expected.alpha, found.alpha), (expected.r2, found.r2), (expected.n_obs, found.n_obs)]
    for before, after in [*pairs, (expected.residuals, found.residuals)]:
        assert after.columns.equals(before.columns) and after.index.equals(before.index)
        assert np.array_equal(after.to_numpy(), before.to_numpy(), equal_nan=True)
        assert _block(after).flags.f_contiguous == _block(before).flags.f_contiguous
    assert all(_is_mapped(_block(after)) for _, after in pairs)
    assert not _is_mapped(_block(found.residuals))
    assert (found.alpha is source.alpha) is not narrower  # equal labels: no copy at all
    with pytest.raises(ValueError, match="does not cover"):
        select_and_park(source, ["nope"], directory=scratch, min_bytes=0)
    assert list(scratch.iterdir()) == []
