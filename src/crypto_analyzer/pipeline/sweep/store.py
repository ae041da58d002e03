"""What a sweep keeps: chunk checkpoints, the trial table and series as Parquet, and its rows.

* **Checkpoints** live in the artifact store under
  ``sweeps/<tenant>/<sweep run key>/chunks-<chunk size>/<chunk>.parquet``: keyed by the sweep's
  identity, not by one execution of it, so any later run of the same sweep on the same data
  (``--resume``) finds them; the store is create-only and the bytes are deterministic, so a chunk
  written twice is written once. They are outside ``runs/`` — not a run's output, never an orphan.
* **Artifacts** of the sweep run go through :class:`~crypto_analyzer.pipeline.report.writer.
  RunArtifacts` (lineage, manifest), like a report's: ``sweep/trials.parquet`` (one row per trial),
  ``sweep/series.parquet`` (OOS IC and net returns, long), ``sweep/family.json``.
* **Rows**: the sweep is a ``runs`` row (tag ``sweep``); ``sweep_families`` names it and
  ``sweep_hypotheses`` lists every trial (hypothesis id, signal, horizon, parameters).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.engine import Connection

from crypto_analyzer.artifacts.store import ArtifactStore
from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.db.schema import sweep_families, sweep_hypotheses
from crypto_analyzer.pipeline.sweep.evaluate import TrialOutcome
from crypto_analyzer.pipeline.sweep.family import SweepFamily

__all__ = [
    "TRIAL_TABLE_SCHEMA",
    "checkpoint_key",
    "checkpoint_prefix",
    "record_sweep_rows",
    "series_table_bytes",
    "stored_checkpoints",
    "trial_table_bytes",
]

TRIAL_TABLE_SCHEMA = pa.schema(
    [
        ("index", pa.int64()),
        ("hypothesis_id", pa.string()),
        ("signal", pa.string()),
        ("params", pa.string()),
        ("horizon", pa.int64()),
        ("universe", pa.string()),
        ("cost", pa.string()),
        ("n_assets", pa.int64()),
        ("ic_mean", pa.float64()),
        ("t_hac", pa.float64()),
        ("p_value", pa.float64()),
        ("bh_p", pa.float64()),
        ("rw_p", pa.float64()),
        ("n_obs", pa.int64()),
        ("sharpe", pa.float64()),
        ("net_sharpe", pa.float64()),
        ("dsr", pa.float64()),
        ("run_key", pa.string()),
    ]
)
"""The trial table: per trial its grid point, OOS IC and HAC t, one-sided p (and BH / StepM
adjusted over the sweep), per-period Sharpe, annualised net Sharpe at target capital, and DSR
with N = the sweep's trial count."""


def checkpoint_prefix(tenant_id: str, sweep_run_key: str, chunk_size: int) -> str:
    return f"sweeps/{tenant_id}/{sweep_run_key}/chunks-{chunk_size}/"


def checkpoint_key(prefix: str, chunk_index: int) -> str:
    return f"{prefix}{chunk_index:06d}.parquet"


def stored_checkpoints(store: ArtifactStore, prefix: str, n_chunks: int) -> dict[int, bytes]:
    """The checkpoints already in the store for chunks ``0 … n_chunks-1``."""
    wanted = {checkpoint_key(prefix, index): index for index in range(n_chunks)}
    return {wanted[key]: store.get(key) for key in store.list(prefix) if key in wanted}


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", write_statistics=False)
    return buffer.getvalue()


def trial_table_bytes(outcomes: Sequence[TrialOutcome], family: SweepFamily) -> bytes:
    """``sweep/trials.parquet`` in trial order (deterministic bytes)."""
    ordered = sorted(outcomes, key=lambda item: item.spec.index)
    rows: dict[str, list[Any]] = {name: [] for name in TRIAL_TABLE_SCHEMA.names}
    for position, item in enumerate(ordered):
        spec = item.spec
        values = {
            "index": spec.index,
            "hypothesis_id": spec.hypothesis_id,
            "signal": spec.signal,
            "params": canonical_dumps(dict(spec.params)),
            "horizon": spec.horizon,
            "universe": spec.universe,
            "cost": spec.cost,
            "n_assets": len(item.assets),
            "ic_mean": item.ic_mean,
            "t_hac": item.t_hac,
            "p_value": item.p_value,
            "bh_p": family.bh_p[position],
            "rw_p": family.rw_p[position],
            "n_obs": item.n_obs,
            "sharpe": item.sharpe,
            "net_sharpe": item.net_sharpe,
            "dsr": family.dsr[position],
            "run_key": item.run_key,
        }
        for name in TRIAL_TABLE_SCHEMA.names:
            rows[name].append(values[name])
    return _parquet(pa.Table.from_pydict(rows, schema=TRIAL_TABLE_SCHEMA))


def series_table_bytes(outcomes: Sequence[TrialOutcome]) -> bytes:
    """``sweep/series.parquet``: (trial index, series, bar_open_ms, value), long, trial order."""
    index: list[int] = []
    kind: list[str] = []
    times: list[int] = []
    values: list[float] = []
    for item in sorted(outcomes, key=lambda outcome: outcome.spec.index):
        for name, series in (("oos_ic", item.oos_ic), ("net_return", item.net_returns)):
            index.extend([item.spec.index] * len(series))
            kind.extend([name] * len(series))
            times.extend(int(t) for t in series.index)
            values.extend(float(v) for v in series.to_numpy())
    table = pa.table(
        {
            "index": pa.array(index, pa.int64()),
            "series": pa.array(kind, pa.string()),
            "bar_open_ms": pa.array(times, pa.int64()),
            "value": pa.array(values, pa.float64()),
        }
    )
    return _parquet(table)


def record_sweep_rows(
    connection: Connection,
    *,
    tenant_id: str,
    run_instance_id: str,
    name: str,
    outcomes: Sequence[TrialOutcome],
    created_at: str,
) -> None:
    """The sweep's family row (id = its run instance id) and one hypothesis row per trial."""
    connection.execute(
        sweep_families.insert().values(
            tenant_id=tenant_id,
            family_id=run_instance_id,
            run_instance_id=run_instance_id,
            name=name,
            n_hypotheses=len(outcomes),
            created_at=created_at,
        )
    )
    rows = [
        {
            "tenant_id": tenant_id,
            "family_id": run_instance_id,
            "hypothesis_id": item.spec.hypothesis_id,
            "signal": item.spec.signal,
            "horizon": item.spec.horizon,
            "params_json": canonical_dumps(
                {
                    "cost": item.spec.cost,
                    "params": dict(item.spec.params),
                    "universe": item.spec.universe,
                }
            ),
        }
        for item in sorted(outcomes, key=lambda outcome: outcome.spec.index)
    ]
    if rows:
        connection.execute(sweep_hypotheses.insert(), rows)
