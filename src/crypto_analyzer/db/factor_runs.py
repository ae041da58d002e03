"""Factor runs in the database: a fit stored once under its content id and read back, not refit.

Residual ("clean") signals are only as trustworthy as the betas behind them, so a reviewer must be
able to see the exact estimates a report used. A factor run is keyed by
``factor_run_id = sha256_json({config, dataset_id})`` (see ``research.factors``): the same
dataset and fit config always name the same run, and a later report on them reads the stored
betas and residuals back instead of fitting again, so every consumer works from one set of
numbers even if the estimator's code changes in between (the run row records the engine version
that produced it).

A run and all its rows are written in one transaction and the run row is only ever visible as
``succeeded`` with every row present: a crash mid-write leaves nothing behind, and a rerun
writes the run again. NaN estimates (warm-up bars) are not stored; reading back turns absent
cells into NaN again, so a round trip is exact (SQLite REAL and PostgreSQL double precision both
hold every float64 bit pattern this writes).
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.core.clock import now, to_iso
from crypto_analyzer.core.errors import DatabaseError, ValidationError
from crypto_analyzer.core.identities import config_digest
from crypto_analyzer.core.versions import ENGINE_VERSION
from crypto_analyzer.db.schema import factor_betas, factor_residuals, factor_runs
from crypto_analyzer.db.tenant_session import set_driver_tenant

__all__ = [
    "FactorFrames",
    "StoredFactorRun",
    "find_factor_run",
    "load_factor_frames",
    "save_factor_frames",
]

_BLOCK_ROWS = 500
"""Rows per multi-row INSERT (7 columns x 500 stays far below either backend's parameter limit)."""


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
    )


def save_factor_frames(
    engine: Engine,
    *,
    tenant_id: str,
    factor_run_id: str,
    dataset_id: str,
    config: Mapping[str, Any],
    fit: FactorFrames,
) -> None:
    """Store ``fit`` as factor run ``factor_run_id``, all or nothing."""
    _check_names(fit)
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
            )
        )
        try:
            _insert_rows(connection, factor_betas, _beta_rows(tenant_id, factor_run_id, fit))
            _insert_rows(
                connection, factor_residuals, _residual_rows(tenant_id, factor_run_id, fit)
            )
        except connection.dialect.dbapi.Error as exc:  # type: ignore[union-attr]
            raise DatabaseError(
                f"storing factor run {factor_run_id} failed: {exc}",
                "nothing of the run was kept; fix the cause and rerun",
            ) from exc


def load_factor_frames(
    engine: Engine,
    *,
    tenant_id: str,
    factor_run_id: str,
    index: pd.Index,
    assets: pd.Index,
    factor_ids: Sequence[Hashable],
) -> FactorFrames:
    """Rebuild the stored fit on the ``index`` x ``assets`` grid it was fitted on.

    Read one asset (and factor) at a time: each query walks a primary-key prefix and returns
    numbers only, several times faster than materialising an id string per stored cell. A stored
    row outside the grid means the caller's panel is not the one the run was fitted on; the row
    counts expose it and it raises rather than silently dropping data.
    """
    key = (tenant_id, factor_run_id)
    factors = [str(f) for f in factor_ids]
    shape = (len(index), len(assets))
    beta_grids = [np.full(shape, np.nan) for _ in factors]
    grids = [np.full(shape, np.nan) for _ in range(3)]  # alpha, r2, residual
    seen = 0
    with engine.connect() as connection:
        marker = "?" if connection.dialect.name == "sqlite" else "%s"
        betas_of, residuals_of, *counts = (sql.replace("?", marker) for sql in _QUERIES)
        raw = connection.connection.dbapi_connection
        set_driver_tenant(engine, raw)  # raw cursors skip the ``begin`` event: read as the tenant
        cursor = raw.cursor()  # type: ignore[union-attr]
        try:
            for col, asset in enumerate(assets):
                for grid, factor in zip(beta_grids, factors, strict=True):
                    cursor.execute(betas_of, (*key, asset, factor))
                    seen += _scatter(index, cursor.fetchall(), [grid], col, factor_run_id)
                cursor.execute(residuals_of, (*key, asset))
                seen += _scatter(index, cursor.fetchall(), grids, col, factor_run_id)
            stored = 0
            for count in counts:
                cursor.execute(count, key)
                stored += int(cast(Sequence[Any], cursor.fetchone())[0])  # COUNT(*): one row
        finally:
            cursor.close()
    if stored != seen:
        raise DatabaseError(
            f"factor run {factor_run_id} holds {stored - seen} estimate(s) outside the panel it "
            "is loaded onto",
            "the run was fitted on other data; recompute it from the current dataset",
        )
    betas = {
        factor: pd.DataFrame(grid, index=index, columns=assets)
        for factor, grid in zip(factor_ids, beta_grids, strict=True)
    }
    alpha, r2, residuals = (pd.DataFrame(grid, index=index, columns=assets) for grid in grids)
    return FactorFrames(betas, alpha, r2, residuals)


_QUERIES = (
    "SELECT ts_ms, beta FROM factor_betas WHERE tenant_id = ? AND factor_run_id = ? "
    "AND instrument_id = ? AND factor = ?",
    "SELECT ts_ms, alpha, r_squared, residual FROM factor_residuals WHERE tenant_id = ? "
    "AND factor_run_id = ? AND instrument_id = ?",
    "SELECT COUNT(*) FROM factor_betas WHERE tenant_id = ? AND factor_run_id = ?",
    "SELECT COUNT(*) FROM factor_residuals WHERE tenant_id = ? AND factor_run_id = ?",
)
"""Per-asset reads (primary-key prefixes) and the totals they must add up to; ``?`` is replaced
by the driver's marker."""


def _scatter(
    index: pd.Index, rows: Sequence[Any], grids: Sequence[np.ndarray], col: int, run_id: str
) -> int:
    """Put one asset's stored ``(ts, value...)`` rows into column ``col`` of each grid."""
    if not rows:
        return 0
    values = np.array(rows, dtype=np.float64)  # NULL (None) -> NaN
    positions = index.get_indexer(pd.Index(values[:, 0].astype(np.int64)))
    if (positions < 0).any():
        raise DatabaseError(
            f"factor run {run_id} holds estimates at bars outside the panel it is loaded onto",
            "the run was fitted on other data; recompute it from the current dataset",
        )
    for offset, grid in enumerate(grids, start=1):
        grid[positions, col] = values[:, offset]
    return len(rows)


def _check_names(fit: FactorFrames) -> None:
    """Asset and factor ids are instrument ids: non-empty text (uniqueness is the key's job)."""
    frames = [
        *fit.betas.values(),
        fit.alpha,
        fit.residuals,
        *([fit.r2] if fit.r2 is not None else []),
    ]
    for frame in frames:
        bad = [name for name in frame.columns if not isinstance(name, str) or not name]
        if bad:
            raise ValidationError(
                f"factor fit columns must be instrument ids (non-empty text), got {bad[:3]}",
                "build the fit from a panel whose columns are instrument ids",
            )
        if not frame.index.equals(fit.alpha.index) or not frame.columns.equals(fit.alpha.columns):
            raise ValidationError(
                "factor fit frames are not aligned on one time x asset grid",
                "store the frames exactly as the fit returned them",
            )
    bad = [f for f in fit.betas if not isinstance(f, str) or not f]
    if bad:
        raise ValidationError(
            f"factor ids must be instrument ids (non-empty text), got {bad[:3]}",
            "name each factor by its instrument id",
        )


def _long(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column positions of the finite-or-NaN grid, in (asset, time) order."""
    n_times, n_assets = frame.shape
    cols = np.repeat(np.arange(n_assets), n_times)
    rows = np.tile(np.arange(n_times), n_assets)
    return rows, cols, frame.to_numpy(dtype=np.float64, na_value=np.nan).T.ravel()


def _beta_rows(tenant_id: str, run_id: str, fit: FactorFrames) -> Iterable[tuple[Any, ...]]:
    for factor, frame in fit.betas.items():
        rows, cols, values = _long(frame)
        keep = ~np.isnan(values)
        times = frame.index.to_numpy(dtype=np.int64)[rows[keep]].tolist()
        names = frame.columns.to_numpy(dtype=object)[cols[keep]].tolist()
        factor_name = str(factor)
        for name, ts, beta in zip(names, times, values[keep].tolist(), strict=True):
            yield (tenant_id, run_id, name, ts, factor_name, beta)


def _residual_rows(tenant_id: str, run_id: str, fit: FactorFrames) -> Iterable[tuple[Any, ...]]:
    r2 = fit.r2 if fit.r2 is not None else pd.DataFrame(np.nan, fit.alpha.index, fit.alpha.columns)
    rows, cols, alpha = _long(fit.alpha)
    r_squared = _long(r2)[2]
    residual = _long(fit.residuals)[2]
    keep = ~(np.isnan(alpha) & np.isnan(r_squared) & np.isnan(residual))
    times = fit.alpha.index.to_numpy(dtype=np.int64)[rows[keep]].tolist()
    names = fit.alpha.columns.to_numpy(dtype=object)[cols[keep]].tolist()
    # numpy's stubs reject None as np.where's x (a wrong overload wins); it makes an object array.
    picked = [
        np.where(np.isnan(v[keep]), None, v[keep]).tolist()  # type: ignore[attr-defined]
        for v in (alpha, r_squared, residual)
    ]
    for name, ts, a, r, e in zip(names, times, *picked, strict=True):
        yield (tenant_id, run_id, name, ts, a, r, e)


def _insert_rows(connection: Connection, table: sa.Table, rows: Iterable[tuple[Any, ...]]) -> None:
    """Bulk insert in the caller's transaction: multi-row VALUES on both backends.

    Not COPY on PostgreSQL: COPY FROM is refused for a role that row-level security binds (the
    application role, revision 0011), while an INSERT is checked row by row by the policy.
    """
    names = [column.name for column in table.columns]
    raw = connection.connection.dbapi_connection
    marker = "?" if connection.dialect.name == "sqlite" else "%s"
    row_sql = f"({', '.join([marker] * len(names))})"
    head = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
    block_sql = head + ", ".join([row_sql] * _BLOCK_ROWS)
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        pending: list[Any] = []
        blocks: list[list[Any]] = []
        count = 0
        for row in rows:
            pending.extend(row)
            count += 1
            if count == _BLOCK_ROWS:
                blocks.append(pending)
                pending, count = [], 0
                if len(blocks) == 200:
                    cursor.executemany(block_sql, blocks)
                    blocks = []
        if blocks:
            cursor.executemany(block_sql, blocks)
        if count:
            cursor.execute(head + ", ".join([row_sql] * count), pending)
    finally:
        cursor.close()
