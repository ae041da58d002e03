"""Factor runs in the database: the identity and audit trail of a fit, not its values.

A factor run is keyed by ``factor_run_id = sha256_json({config, dataset_id})`` (see
``research.factors``): the same dataset and fit config always name the same run. Its row records
what a reviewer needs to trust the residuals a report used — the dataset id, the full config, the
engine version, and ``values_digest``, the SHA-256 of the fitted values themselves — and where the
values are: a compressed columnar file in the artifact store, named by its own SHA-256
(``artifact_key``, ``artifact_sha256``, ``artifact_size``). A row costs well under a kilobyte
however large the panel, where the long-format rows of revisions 0001-0015 cost more than the bars
they were fitted on (those rows are still read, and converted, by ``db.factor_rows``).

Kinds of row (:attr:`StoredFactorRun.kind`):

* ``artifact`` — digest and file recorded: reuse reads the file and checks both digests;
* ``digest`` — digest only (stored without an artifact store, or the file was lost): reuse refits
  and checks the refit against the digest, and attaches a file when a store is at hand;
* ``legacy`` — written before revision 0016: the values are long-format rows.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.artifacts.store import ArtifactRef
from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.core.clock import now, to_iso
from crypto_analyzer.core.errors import DatabaseError
from crypto_analyzer.core.identities import config_digest
from crypto_analyzer.core.versions import ENGINE_VERSION
from crypto_analyzer.db.schema import factor_runs

__all__ = [
    "FactorFrames",
    "StoredFactorRun",
    "attach_factor_values",
    "find_factor_run",
    "record_factor_run",
]


@dataclass(frozen=True, slots=True)
class FactorFrames:
    """A factor fit as stored: time x asset frames (``r2`` may be ``None`` for recursive fits)."""

    betas: Mapping[Hashable, pd.DataFrame]
    alpha: pd.DataFrame
    r2: pd.DataFrame | None
    residuals: pd.DataFrame


@dataclass(frozen=True, slots=True)
class StoredFactorRun:
    """The run row of a stored factor fit."""

    factor_run_id: str
    dataset_id: str
    config: dict[str, Any]
    engine_version: str
    status: str
    created_at: str
    values_digest: str | None = None
    artifact_key: str | None = None
    artifact_sha256: str | None = None
    artifact_size: int | None = None

    @property
    def kind(self) -> str:
        """``artifact``, ``digest`` or ``legacy`` (see the module docstring)."""
        if self.values_digest is None:
            return "legacy"
        return "digest" if self.artifact_sha256 is None else "artifact"


def find_factor_run(
    engine: Engine, *, tenant_id: str, factor_run_id: str
) -> StoredFactorRun | None:
    """The stored run with this id, or ``None``."""
    query = sa.select(factor_runs).where(
        factor_runs.c.tenant_id == tenant_id, factor_runs.c.factor_run_id == factor_run_id
    )
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    if row is None:
        return None
    return StoredFactorRun(
        factor_run_id=row["factor_run_id"],
        dataset_id=row["dataset_id"],
        config=json.loads(row["config_json"]),
        engine_version=row["engine_version"],
        status=row["status"],
        created_at=row["created_at"],
        values_digest=row["values_digest"],
        artifact_key=row["artifact_key"],
        artifact_sha256=row["artifact_sha256"],
        artifact_size=row["artifact_size"],
    )


def record_factor_run(
    engine: Engine,
    *,
    tenant_id: str,
    factor_run_id: str,
    dataset_id: str,
    config: Mapping[str, Any],
    values_digest: str,
    artifact: ArtifactRef | None,
) -> None:
    """Insert the run row of a fit whose values are ``artifact`` (or only digested: ``None``).

    The file is written before this row, so a row never names a file that was not stored; a
    crash in between leaves an unreferenced, content-addressed file that the next run reuses.
    """
    stamp = to_iso(now())
    with engine.begin() as connection:
        connection.execute(
            factor_runs.insert().values(
                tenant_id=tenant_id,
                factor_run_id=factor_run_id,
                dataset_id=dataset_id,
                config_json=canonical_dumps(dict(config)),
                config_digest=config_digest(dict(config)),
                engine_version=ENGINE_VERSION,
                status="succeeded",
                created_at=stamp,
                finished_at=stamp,
                values_digest=values_digest,
                **_artifact_columns(artifact),
            )
        )


def attach_factor_values(
    connection: Connection,
    *,
    tenant_id: str,
    run: StoredFactorRun,
    values_digest: str,
    artifact: ArtifactRef | None,
) -> None:
    """Record the digest (and file) of ``run``'s values, in the caller's transaction.

    Only a row still in the state ``run`` was read in is changed (a concurrent converter may have
    been first: then nothing is written and its record stands). An already recorded digest is
    never replaced by a different one.
    """
    if run.values_digest is not None and run.values_digest != values_digest:
        raise DatabaseError(
            f"factor run {run.factor_run_id} records values digest {run.values_digest[:16]}…, "
            f"not {values_digest[:16]}…",
            "the stored run and these values differ; recompute the run from its dataset",
        )
    same_state = (
        factor_runs.c.values_digest.is_(None)
        if run.values_digest is None
        else factor_runs.c.values_digest == run.values_digest
    )
    connection.execute(
        factor_runs.update()
        .where(
            factor_runs.c.tenant_id == tenant_id,
            factor_runs.c.factor_run_id == run.factor_run_id,
            same_state,
            factor_runs.c.artifact_sha256.is_(None),
        )
        .values(values_digest=values_digest, **_artifact_columns(artifact))
    )


def _artifact_columns(artifact: ArtifactRef | None) -> dict[str, Any]:
    if artifact is None:
        return {"artifact_key": None, "artifact_sha256": None, "artifact_size": None}
    return {
        "artifact_key": artifact.key,
        "artifact_sha256": artifact.sha256,
        "artifact_size": artifact.size,
    }
