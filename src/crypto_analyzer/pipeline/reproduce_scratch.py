"""The scratch workspace a reproduction runs in: never the governed record.

A reproduction must re-execute the report exactly as it ran, yet write nothing into the workspace
it audits (no run row, no trial-ledger rows, no lineage, no artifacts). It therefore runs in a
fresh SQLite *sandbox* workspace in a temporary directory, holding only what the run read:

* the market rows visible at the run's watermark (``bars`` and ``instruments`` as point-in-time
  reads return them), stamped as one scratch revision — the dataset id hashes market content
  only, so it is unchanged;
* the tenant's trial-ledger prefix written before the run (rows copied verbatim, so the chain
  stays valid) with the run rows those trials name, so the report's research-history counts are
  the ones the run saw;
* placeholder runs for the instance ids a pinned rerun would skip (``attempt``), so the rerun
  takes the recorded run instance id.

Factor fits are not copied: the report refits them, deterministically, in the scratch database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.settings import Settings, load_settings, reset_settings_cache
from crypto_analyzer.db.market_history import history_visible, visible_select
from crypto_analyzer.db.registry import RunRecord
from crypto_analyzer.db.schema import bars, ingest_runs, instruments, market_revisions, runs
from crypto_analyzer.db.schema.ledger import trial_ledger
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.db.workspace_mode import WorkspaceMode
from crypto_analyzer.pipeline.workspace import init_workspace

__all__ = ["SCRATCH_INGEST_RUN", "ScratchWorkspace", "build_scratch", "pinned_clock"]

SCRATCH_INGEST_RUN = "ir_reproduction_copy"
"""The one ingest run that owns every market row copied into a scratch workspace."""
_CHUNK = 20_000
_FIXED_TIME_VARIABLE = "CRYPTO_ANALYZER_FIXED_TIME"


@dataclass(frozen=True, slots=True)
class ScratchWorkspace:
    """Where the scratch run writes: its settings (database and artifact store) and directory."""

    directory: Path
    settings: Settings
    market_rows: dict[str, int]
    ledger_rows: int


def build_scratch(
    source: Engine,
    tenant_id: str,
    run: RunRecord,
    watermark: int,
    directory: Path,
    *,
    placeholders: tuple[str, ...] = (),
) -> ScratchWorkspace:
    """A sandbox workspace in ``directory`` holding the data ``run`` read at ``watermark``."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = load_settings(
        db_url=f"sqlite:///{(directory / 'scratch.sqlite').resolve()}",
        artifacts=f"file://{(directory / 'artifacts').resolve()}",
        tenant=tenant_id,
    )
    init_workspace(settings, WorkspaceMode.SANDBOX)
    with open_engine(settings, read_only=False) as scratch:
        counts = _copy_market(source, scratch, tenant_id, watermark, run.started_at)
        ledger = _copy_ledger_prefix(source, scratch, tenant_id, run.run_instance_id)
        _insert_placeholders(scratch, tenant_id, run, placeholders)
    return ScratchWorkspace(directory, settings, counts, ledger)


def _copy_market(
    source: Engine, scratch: Engine, tenant_id: str, watermark: int, stamp: str
) -> dict[str, int]:
    counts: dict[str, int] = {}
    with scratch.begin() as target:
        target.execute(
            ingest_runs.insert().values(
                tenant_id=tenant_id,
                ingest_run_id=SCRATCH_INGEST_RUN,
                kind="import",
                provider="reproduction",
                actor="reproduction",
                params_json="{}",
                started_at=stamp,
                finished_at=stamp,
                status="succeeded",
                last_revision=1,
            )
        )
        target.execute(
            market_revisions.insert().values(
                tenant_id=tenant_id, revision=1, ingest_run_id=SCRATCH_INGEST_RUN, created_at=stamp
            )
        )
        for table in (instruments, bars):  # instruments first: bars name them
            names = [c.name for c in table.columns if c.name not in ("tenant_id", "revision")]
            with source.connect() as reader:
                with_history = history_visible(reader, table.name, tenant_id, watermark)
                query = visible_select(
                    table.name, names, tenant_id, watermark, with_history=with_history
                )
                result = reader.execution_options(stream_results=True, yield_per=_CHUNK).execute(
                    query
                )
                total = 0
                for chunk in result.partitions(_CHUNK):
                    rows = [
                        {**dict(zip(names, row, strict=True)), "tenant_id": tenant_id,
                         "revision": 1, "ingest_run_id": SCRATCH_INGEST_RUN}
                        for row in chunk
                    ]  # fmt: skip
                    target.execute(table.insert(), rows)
                    total += len(rows)
            counts[table.name] = total
    return counts


def _copy_ledger_prefix(source: Engine, scratch: Engine, tenant_id: str, run_id: str) -> int:
    with source.connect() as reader:
        first = reader.execute(
            sa.select(sa.func.min(trial_ledger.c.seq)).where(
                trial_ledger.c.tenant_id == tenant_id, trial_ledger.c.run_instance_id == run_id
            )
        ).scalar_one()
        if first is None:
            first = reader.execute(
                sa.select(sa.func.coalesce(sa.func.max(trial_ledger.c.seq) + 1, 0)).where(
                    trial_ledger.c.tenant_id == tenant_id
                )
            ).scalar_one()
        trials = [
            dict(row)
            for row in reader.execute(
                sa.select(trial_ledger)
                .where(trial_ledger.c.tenant_id == tenant_id, trial_ledger.c.seq < int(first))
                .order_by(trial_ledger.c.seq)
            ).mappings()
        ]
        named = sorted({str(row["run_instance_id"]) for row in trials})
        run_rows: list[dict[str, Any]] = []
        if named:
            run_query = sa.select(runs).where(
                runs.c.tenant_id == tenant_id, runs.c.run_instance_id.in_(named)
            )
            run_rows = [dict(row) for row in reader.execute(run_query).mappings()]
    with scratch.begin() as target:
        if run_rows:
            target.execute(runs.insert(), run_rows)
        for start in range(0, len(trials), _CHUNK):
            target.execute(trial_ledger.insert(), trials[start : start + _CHUNK])
    return len(trials)


def _insert_placeholders(
    scratch: Engine, tenant_id: str, run: RunRecord, placeholders: tuple[str, ...]
) -> None:
    """Finished runs holding the instance ids of earlier attempts at the pinned instant."""
    if not placeholders:
        return
    base: dict[str, Any] = {
        "tenant_id": tenant_id, "run_key": run.run_key, "dataset_id": run.dataset_id,
        "dataset_mode": run.dataset_mode, "config_json": "{}", "config_digest": run.config_digest,
        "engine_version": run.engine_version, "spec_version": run.spec_version,
        "seed_version": run.seed_version, "actor": "reproduction", "status": "failed",
        "started_at": run.started_at, "finished_at": run.started_at,
        "error": "placeholder: an earlier attempt of the reproduced run",
    }  # fmt: skip
    with scratch.begin() as target:
        present = set(
            target.execute(
                sa.select(runs.c.run_instance_id).where(
                    runs.c.tenant_id == tenant_id, runs.c.run_instance_id.in_(placeholders)
                )
            ).scalars()
        )  # an earlier attempt whose trials precede the run was copied with the ledger
        missing = [rid for rid in placeholders if rid not in present]
        if missing:
            target.execute(runs.insert(), [{**base, "run_instance_id": rid} for rid in missing])


@contextmanager
def pinned_clock(stamp: str) -> Iterator[None]:
    """Pin the project clock (``CRYPTO_ANALYZER_FIXED_TIME``) to ``stamp`` for the block.

    The clock reads the pin from the environment, so this changes process state: it is for
    one reproduction at a time in a process (the CLI, a notebook), not for a threaded server.
    """
    previous = os.environ.get(_FIXED_TIME_VARIABLE)
    os.environ[_FIXED_TIME_VARIABLE] = stamp
    reset_settings_cache()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(_FIXED_TIME_VARIABLE, None)
        else:
            os.environ[_FIXED_TIME_VARIABLE] = previous
        reset_settings_cache()
