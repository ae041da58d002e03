"""The factor fit file: an exact round trip, a digest of the values that ignores how NaN is spelled
and how the file is compressed, and a refusal of anything that is not such a file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from crypto_analyzer.artifacts.factor_fit_file import (
    decode_factor_fit,
    encode_factor_fit,
    factor_fit_key,
    values_digest,
)
from crypto_analyzer.core.errors import ArtifactIntegrityError, ValidationError
from crypto_analyzer.db.factor_runs import FactorFrames
from crypto_analyzer.research import fit_factor_model


def _frames(with_r2: bool = True) -> FactorFrames:
    rng = np.random.default_rng(11)
    index = pd.Index(1_700_000_000_000 + 3_600_000 * np.arange(120), name="bar_open_ms")
    returns = pd.DataFrame(
        rng.normal(0.0, 0.01, (120, 5)), index=index, columns=["b:BTC", "b:ETH", "a", "b", "c"]
    )
    returns.iloc[10:30, 3] = np.nan
    fit = fit_factor_model(returns, factor_ids=["b:BTC", "b:ETH"], window=24, lag=1)
    return FactorFrames(fit.betas, fit.alpha, fit.r2 if with_r2 else None, fit.residuals)


@pytest.mark.parametrize("with_r2", [True, False])
def test_round_trip_is_exact(with_r2: bool) -> None:
    frames = _frames(with_r2)
    encoded = encode_factor_fit(frames)
    back, digest = decode_factor_fit(encoded.data, source="mem")
    assert digest == encoded.values_digest == values_digest(frames)
    for factor, beta in frames.betas.items():
        pd.testing.assert_frame_equal(back.betas[factor], beta, check_exact=True)
    pd.testing.assert_frame_equal(back.residuals, frames.residuals, check_exact=True)
    pd.testing.assert_frame_equal(back.alpha, frames.alpha, check_exact=True)
    assert (back.r2 is None) == (not with_r2)
    assert encode_factor_fit(frames).data == encoded.data  # deterministic bytes


def test_digest_ignores_nan_spelling_but_not_values_or_labels() -> None:
    frames = _frames()
    base = values_digest(frames)
    negative_nan = frames.residuals.to_numpy(copy=True)
    negative_nan[np.isnan(negative_nan)] = -np.nan  # another NaN bit pattern, same meaning
    spelled = FactorFrames(frames.betas, frames.alpha, frames.r2, frames.residuals.copy())
    spelled.residuals.iloc[:, :] = negative_nan
    assert values_digest(spelled) == base
    nudged = frames.residuals.copy()
    nudged.iloc[100, 0] = np.nextafter(nudged.iloc[100, 0], 1.0)  # one ulp
    assert values_digest(FactorFrames(frames.betas, frames.alpha, frames.r2, nudged)) != base
    renamed = frames.residuals.rename(columns={"a": "z"})
    other = FactorFrames(
        {f: b.rename(columns={"a": "z"}) for f, b in frames.betas.items()},
        frames.alpha.rename(columns={"a": "z"}),
        None if frames.r2 is None else frames.r2.rename(columns={"a": "z"}),
        renamed,
    )
    assert values_digest(other) != base


def test_other_files_are_refused_with_a_clear_error() -> None:
    with pytest.raises(ArtifactIntegrityError, match="not a readable Arrow file"):
        decode_factor_fit(b"not arrow at all", source="s3://b/k.arrow")
    table = pa.table({"alpha": pa.array([1.0, 2.0])})
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    with pytest.raises(ArtifactIntegrityError, match="no factor fit header"):
        decode_factor_fit(sink.getvalue().to_pybytes(), source="file:///x.arrow")


def test_names_must_be_text_and_keys_content_addressed() -> None:
    frames = _frames()

    def rename(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.rename(columns={"a": 7})

    bad = FactorFrames(
        {f: rename(b) for f, b in frames.betas.items()},
        rename(frames.alpha),
        None,
        rename(frames.residuals),
    )
    with pytest.raises(ValidationError, match="instrument ids"):
        encode_factor_fit(bad)
    misaligned = FactorFrames(frames.betas, frames.alpha, None, rename(frames.residuals))
    with pytest.raises(ValidationError, match="not aligned"):
        encode_factor_fit(misaligned)
    sha = "ab" * 32
    assert factor_fit_key("default", sha) == f"factor_runs/{sha}.arrow"
    assert factor_fit_key("desk-a", sha) == f"tenants/desk-a/factor_runs/{sha}.arrow"
    with pytest.raises(ValueError, match="SHA-256"):
        factor_fit_key("default", "../etc")


def test_the_spooled_file_is_the_file_an_in_memory_writer_makes() -> None:
    """The encoder writes through a temporary file (memory); the bytes — the file's id — must be
    those of the same table written to memory."""
    encoded = encode_factor_fit(_frames())
    table = ipc.open_file(pa.py_buffer(encoded.data)).read_all()
    stream = pa.BufferOutputStream()
    options = ipc.IpcWriteOptions(compression="zstd")
    with ipc.new_file(stream, table.schema, options=options) as writer:
        writer.write_table(table)
    assert stream.getvalue().to_pybytes() == encoded.data


def test_a_fit_written_in_many_batches_reads_back_exactly(monkeypatch) -> None:
    """Large fits are written a block of bars at a time (bounded memory); the values, their
    digest and the decoded frames are those of the one-batch file."""
    import crypto_analyzer.artifacts.factor_fit_file as module

    frames = _frames()
    whole = encode_factor_fit(frames)
    monkeypatch.setattr(module, "FILE_BLOCK_CELLS", 40)  # 13 bars x 3 assets per batch
    blocked = encode_factor_fit(frames)
    reader = ipc.open_file(pa.py_buffer(blocked.data))
    assert reader.num_record_batches == 10  # nine batches of 13 bars, one of 3
    assert blocked.values_digest == whole.values_digest
    back, digest = decode_factor_fit(blocked.data, source="mem")
    assert digest == whole.values_digest
    for factor, beta in frames.betas.items():
        pd.testing.assert_frame_equal(back.betas[factor], beta, check_exact=True)
    pd.testing.assert_frame_equal(back.residuals, frames.residuals, check_exact=True)
    pd.testing.assert_frame_equal(back.r2, frames.r2, check_exact=True)


def _whole_grid_digest(frames: FactorFrames) -> str:
    """The digest as first defined: the header, then each grid canonicalised whole."""
    import hashlib

    from crypto_analyzer.artifacts.factor_fit_file import _header
    from crypto_analyzer.core.canonical_json import canonical_bytes

    digest = hashlib.sha256(canonical_bytes(_header(frames)))
    grids = [*frames.betas.values(), frames.alpha, frames.r2, frames.residuals]
    for frame in (g for g in grids if g is not None):
        grid = np.array(frame.to_numpy(dtype=np.float64), dtype="<f8", order="C", copy=True)
        grid[np.isnan(grid)] = np.nan
        digest.update(grid.tobytes())
    return digest.hexdigest()


def _in_memory_file(frames: FactorFrames, rows_per_batch: int) -> bytes:
    """The file written as first defined: whole canonical grids, sliced into batches."""
    from crypto_analyzer.artifacts.factor_fit_file import _METADATA_KEY, _column_names, _header
    from crypto_analyzer.core.canonical_json import canonical_bytes

    header = _header(frames)
    schema = pa.schema(
        [(n, pa.float64()) for n in _column_names(header)],
        metadata={_METADATA_KEY: canonical_bytes(header)},
    )
    grids = [*frames.betas.values(), frames.alpha, frames.r2, frames.residuals]
    canonical = []
    for frame in (g for g in grids if g is not None):
        grid = np.array(frame.to_numpy(dtype=np.float64), dtype="<f8", order="C", copy=True)
        grid[np.isnan(grid)] = np.nan
        canonical.append(grid)
    stream = pa.BufferOutputStream()
    with ipc.new_file(stream, schema, options=ipc.IpcWriteOptions(compression="zstd")) as writer:
        n_rows = canonical[0].shape[0]
        starts = list(range(0, n_rows, rows_per_batch))
        for start, stop in zip(starts, [*starts[1:], n_rows], strict=True):
            columns = [pa.array(g[start:stop].reshape(-1)) for g in canonical]
            writer.write_batch(pa.record_batch(columns, schema=schema))
    return stream.getvalue().to_pybytes()


def _odd_frames() -> FactorFrames:
    """A fit with NaN spelled several ways and grids in both memory orders."""
    frames = _frames()
    residuals = frames.residuals.to_numpy(copy=True)
    residuals[np.isnan(residuals)] = -np.nan
    residuals[5, 1] = np.frombuffer(np.uint64(0x7FF8_0000_0000_0BAD).tobytes(), np.float64)[0]
    c_ordered = pd.DataFrame(
        np.ascontiguousarray(residuals),
        index=frames.residuals.index,
        columns=frames.residuals.columns,
        copy=False,
    )
    assert c_ordered.to_numpy().flags.c_contiguous
    return FactorFrames(frames.betas, frames.alpha, frames.r2, c_ordered)


@pytest.mark.parametrize("block_cells", [1, 7, 40, 1 << 20])
def test_row_block_digest_equals_the_whole_grid_digest(monkeypatch, block_cells: int) -> None:
    import crypto_analyzer.artifacts.factor_fit_file as module

    monkeypatch.setattr(module, "ROW_BLOCK_CELLS", block_cells)
    for frames in (_frames(), _frames(with_r2=False), _odd_frames()):
        residuals_before = frames.residuals.to_numpy(copy=True)
        assert values_digest(frames) == _whole_grid_digest(frames)
        # the fit's own NaN spellings are left as they are (canonical copies only)
        after = frames.residuals.to_numpy()
        assert np.array_equal(after.view(np.uint64), residuals_before.view(np.uint64))


@pytest.mark.parametrize("file_cells", [40, 1 << 21])
def test_written_file_is_the_first_definitions_file(monkeypatch, tmp_path, file_cells) -> None:
    import hashlib

    import crypto_analyzer.artifacts.factor_fit_file as module
    from crypto_analyzer.artifacts.factor_fit_file import write_factor_fit

    monkeypatch.setattr(module, "FILE_BLOCK_CELLS", file_cells)
    frames = _odd_frames()
    expected = _in_memory_file(frames, max(2, file_cells // 3) if file_cells == 40 else 120)
    path = tmp_path / "fit.arrow"
    with path.open("wb") as sink:
        written = write_factor_fit(frames, sink)
    data = path.read_bytes()
    assert data == expected == encode_factor_fit(frames).data
    assert written.sha256 == hashlib.sha256(data).hexdigest() and written.size == len(data)
    assert written.values_digest == _whole_grid_digest(frames)
    with path.open("rb") as stream:  # decoded from the file: the same frames and digest
        back, digest = decode_factor_fit(stream, source=str(path))
    assert digest == written.values_digest
    pd.testing.assert_frame_equal(back.alpha, frames.alpha, check_exact=True)
    for factor, beta in frames.betas.items():
        pd.testing.assert_frame_equal(back.betas[factor], beta, check_exact=True)
    pd.testing.assert_frame_equal(back.residuals, frames.residuals, check_exact=True)


def test_a_truncated_file_is_refused_when_read_from_a_file(tmp_path) -> None:
    path = tmp_path / "cut.arrow"
    path.write_bytes(encode_factor_fit(_frames()).data[:-100])
    with path.open("rb") as stream, pytest.raises(ArtifactIntegrityError, match="not a readable"):
        decode_factor_fit(stream, source="file:///cut.arrow")


@pytest.mark.parametrize("batches", [1, 4])
@pytest.mark.parametrize("extra_times", [1, -1])
def test_a_file_holding_another_number_of_cells_than_its_header_names_is_refused(
    batches: int, extra_times: int
) -> None:
    import json

    frames = _frames()
    table = ipc.open_file(pa.py_buffer(encode_factor_fit(frames).data)).read_all()
    key = b"crypto_analyzer.factor_fit"
    header = json.loads(table.schema.metadata[key])
    times = header["ts_ms"]
    header["ts_ms"] = [*times, times[-1] + 1] if extra_times > 0 else times[:-1]
    schema = table.schema.with_metadata({key: json.dumps(header).encode()})
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, schema) as writer:
        for batch in table.cast(schema).to_batches(max_chunksize=-(-table.num_rows // batches)):
            writer.write_batch(batch)
    with pytest.raises(ArtifactIntegrityError, match="float cells per column"):
        decode_factor_fit(sink.getvalue().to_pybytes(), source="test")
