"""Where a stored factor run's values come from, and the checks they pass before anyone uses them.

A reused fit must be the fit that was recorded, byte for byte, or the reuse is refused:

* ``artifact`` runs: the file's SHA-256 must equal the recorded ``artifact_sha256`` (checked
  before a byte is decoded), and the decoded values must hash to the recorded ``values_digest``.
  A file that is gone is not an error: the fit is recomputed, verified against the digest, and
  the file written again when the same bytes come out;
* ``digest`` runs: the fit is recomputed and must hash to the recorded ``values_digest``;
* ``legacy`` runs (long-format rows from before revision 0016): read exactly as before, then
  converted — file written, digests recorded, rows deleted — in one transaction.

Reading a file back is several times faster than refitting (``benchmarks/bench_factors.py``
prints both, with refit-and-verify beside them), which is why a store is used when there is one.

A whole-panel file is hundreds of MB, so it only ever lives in a scratch file: written there,
hashed on the way, and streamed into the store (:meth:`ArtifactStore.put_file`); read back by
streaming the stored object into a scratch file, hashing it, then decoding it batch by batch.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.artifacts.factor_fit_file import (
    WrittenFactorFit,
    decode_factor_fit,
    factor_fit_key,
    values_digest,
    write_factor_fit,
)
from crypto_analyzer.artifacts.store import COPY_CHUNK_BYTES, ArtifactRef, ArtifactStore
from crypto_analyzer.core.errors import ArtifactIntegrityError, DatabaseError, NotFoundError
from crypto_analyzer.db.factor_rows import delete_factor_rows, load_factor_frames
from crypto_analyzer.db.factor_runs import (
    FactorFrames,
    StoredFactorRun,
    attach_factor_values,
    find_factor_run,
    record_factor_run,
)
from crypto_analyzer.pipeline.fit_parking import ScratchFitOutputs
from crypto_analyzer.research import FactorFit

__all__ = ["FactorRunSource"]

Refit = Callable[[], FactorFit]


@dataclass(frozen=True, slots=True)
class FactorRunSource:
    """Stores and serves the values of one tenant's factor runs (``store`` may be ``None``)."""

    engine: Engine
    tenant_id: str
    store: ArtifactStore | None

    def record_new(
        self,
        run_id: str,
        dataset_id: str,
        run_config: Mapping[str, Any],
        fit: FactorFit,
        *,
        between_blocks: Callable[[], None] | None = None,
    ) -> None:
        """Store a fresh fit: its file first (when there is a store), then the run row.

        ``between_blocks`` is called after each block of the grids is read (see
        :func:`~crypto_analyzer.artifacts.factor_fit_file.write_factor_fit`)."""
        digest, ref = self._store_values(_frames_of(fit), between_blocks)
        try:
            record_factor_run(
                self.engine,
                tenant_id=self.tenant_id,
                factor_run_id=run_id,
                dataset_id=dataset_id,
                config=run_config,
                values_digest=digest,
                artifact=ref,
            )
        except sa.exc.IntegrityError:
            # A concurrent run stored the same content-addressed fit first; ours is identical.
            if find_factor_run(self.engine, tenant_id=self.tenant_id, factor_run_id=run_id) is None:
                raise

    def reuse(
        self,
        run: StoredFactorRun,
        index: pd.Index,
        assets: pd.Index,
        factor_ids: Sequence[Hashable],
        refit: Refit,
    ) -> FactorFrames:
        """The verified values of ``run`` on the ``index`` x ``assets`` grid of the caller."""
        if run.kind == "legacy":
            return self._convert_legacy(run, index, assets, factor_ids)
        if run.kind == "artifact" and self.store is not None:
            with _scratch() as scratch:
                if self._read_file(run, scratch):
                    frames = self._decode_checked(run, scratch)
                    return _on_grid(frames, run.factor_run_id, index, assets, factor_ids)
        return self._refit_checked(run, refit)

    # -- the three sources ---------------------------------------------------------------------

    def _read_file(self, run: StoredFactorRun, scratch: BinaryIO) -> bool:
        """Copy the run's file into ``scratch``, hashing it on the way; False when it is gone."""
        assert self.store is not None and run.artifact_key is not None
        try:
            stream = self.store.open(run.artifact_key)
        except NotFoundError:
            return False  # lost (or a store without it, e.g. after ``db copy``): refit and verify
        digest = hashlib.sha256()
        with contextlib.closing(stream):
            while chunk := stream.read(COPY_CHUNK_BYTES):
                digest.update(chunk)
                scratch.write(chunk)
        scratch.flush()
        found = digest.hexdigest()
        if found != run.artifact_sha256:
            raise ArtifactIntegrityError(
                f"factor run {run.factor_run_id}: file {self.store.uri_for(run.artifact_key)} has "
                f"SHA-256 {found}, but the run recorded {run.artifact_sha256}; it was changed "
                "after it was written and is not used",
                "delete the file and rerun: the fit is then recomputed and checked against the "
                "recorded values digest",
            )
        return True

    def _decode_checked(self, run: StoredFactorRun, scratch: BinaryIO) -> FactorFrames:
        assert self.store is not None and run.artifact_key is not None
        uri = self.store.uri_for(run.artifact_key)
        scratch.seek(0)
        # the betas, alpha and R² decode into mapped scratch files whose pages go back after
        # each batch and each hashed grid: a reuse holds the residuals, not the whole fit
        outputs = ScratchFitOutputs()
        frames, digest = decode_factor_fit(
            scratch, source=uri, allocate=outputs.flat, between_blocks=outputs.block_done
        )
        if digest != run.values_digest:
            raise ArtifactIntegrityError(
                f"factor run {run.factor_run_id}: the values in {uri} have digest {digest}, but "
                f"the run recorded {run.values_digest}",
                "delete the file and rerun: the fit is then recomputed and checked against the "
                "recorded values digest",
            )
        return frames

    def _refit_checked(self, run: StoredFactorRun, refit: Refit) -> FactorFrames:
        frames = _frames_of(refit())
        with _scratch() as scratch:
            written = self._write(frames, scratch)
            digest = written.values_digest if written is not None else values_digest(frames)
            if digest != run.values_digest:
                raise ArtifactIntegrityError(
                    f"factor run {run.factor_run_id}: the recomputed fit has values digest "
                    f"{digest}, but the run recorded {run.values_digest}",
                    "the data or the estimator changed since the run was stored; inspect the run "
                    "(dataset id, engine version) before trusting either",
                )
            if written is None:
                return frames
            if run.kind == "digest":  # a store is at hand now: keep the verified values as a file
                ref = self._put(written, scratch)
                with self.engine.begin() as connection:
                    attach_factor_values(
                        connection,
                        tenant_id=self.tenant_id,
                        run=run,
                        values_digest=digest,
                        artifact=ref,
                    )
            elif written.sha256 == run.artifact_sha256:  # the lost file, byte for byte: restore
                self._put(written, scratch)
        return frames

    def _convert_legacy(
        self,
        run: StoredFactorRun,
        index: pd.Index,
        assets: pd.Index,
        factor_ids: Sequence[Hashable],
    ) -> FactorFrames:
        frames = load_factor_frames(
            self.engine,
            tenant_id=self.tenant_id,
            factor_run_id=run.factor_run_id,
            index=index,
            assets=assets,
            factor_ids=factor_ids,
        )
        digest, ref = self._store_values(frames)
        with self.engine.begin() as connection:
            attach_factor_values(
                connection, tenant_id=self.tenant_id, run=run, values_digest=digest, artifact=ref
            )
            delete_factor_rows(
                connection, tenant_id=self.tenant_id, factor_run_id=run.factor_run_id
            )
        return frames

    # -- writing -------------------------------------------------------------------------------

    def _store_values(
        self, frames: FactorFrames, between_blocks: Callable[[], None] | None = None
    ) -> tuple[str, ArtifactRef | None]:
        """The values digest, and the file written for them (``None`` without a store)."""
        with _scratch() as scratch:
            written = self._write(frames, scratch, between_blocks)
            if written is None:
                return values_digest(frames, between_blocks=between_blocks), None
            return written.values_digest, self._put(written, scratch)

    def _write(
        self,
        frames: FactorFrames,
        scratch: BinaryIO,
        between_blocks: Callable[[], None] | None = None,
    ) -> WrittenFactorFit | None:
        """The fit's file written into ``scratch`` (``None``, nothing written, without a store)."""
        if self.store is None:
            return None
        return write_factor_fit(frames, scratch, between_blocks=between_blocks)

    def _put(self, written: WrittenFactorFit, scratch: BinaryIO) -> ArtifactRef:
        assert self.store is not None
        ref = self.store.put_file(factor_fit_key(self.tenant_id, written.sha256), scratch)
        if ref.sha256 != written.sha256:  # pragma: no cover - the scratch file changed under us
            raise ArtifactIntegrityError(
                f"the factor fit file stored at {ref.uri} is not the one just written",
                "the scratch file was changed while it was stored; rerun",
            )
        return ref


@contextlib.contextmanager
def _scratch() -> Iterator[BinaryIO]:
    """An anonymous temporary file for one fit file (removed when closed, even on error)."""
    with tempfile.TemporaryFile() as scratch:
        yield scratch


def _frames_of(fit: FactorFit) -> FactorFrames:
    return FactorFrames(fit.betas, fit.alpha, fit.r2, fit.residuals)


def _on_grid(
    frames: FactorFrames,
    run_id: str,
    index: pd.Index,
    assets: pd.Index,
    factor_ids: Sequence[Hashable],
) -> FactorFrames:
    """The decoded frames labelled with the caller's index and assets, which they must match."""
    same = (
        frames.alpha.index.equals(index)
        and list(frames.alpha.columns) == list(assets)
        and list(frames.betas) == list(factor_ids)
    )
    if not same:
        raise DatabaseError(
            f"factor run {run_id} was fitted on another bar grid than the panel it is loaded onto",
            "the run was fitted on other data; recompute it from the current dataset",
        )

    def label(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.set_axis(index, axis=0).set_axis(assets, axis=1)

    return FactorFrames(
        {factor: label(beta) for factor, beta in frames.betas.items()},
        label(frames.alpha),
        None if frames.r2 is None else label(frames.r2),
        label(frames.residuals),
    )
