"""Helpers for report-run integration tests: a small synthetic workspace, and a run written the
way the report writes one (artifacts with edges, manifest last, lineage in one transaction)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.identities import DatasetId, DatasetMode, run_key
from crypto_analyzer.core.settings import Settings, load_settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.lineage import record_lineage
from crypto_analyzer.db.registry import finish_run, record_run_artifact, start_run
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.report.writer import RunArtifacts
from crypto_analyzer.pipeline.workspace import init_workspace

__all__ = [
    "DATASET",
    "SMALL",
    "SMALL_TOML",
    "dead_pid",
    "drop_lineage_triggers",
    "mini_run",
    "workspace",
]

MARKET = SyntheticMarketConfig(assets=12, days=60, seed=5)
SMALL = {
    "signals": ["momentum_24h", "short_reversal", "low_vol"],
    "horizons": [1, 4],
    "min_assets": 5,
    "factor_window": 120,
    "splits": {"test_size": 240, "min_train_size": 480, "embargo": 4},
    "procedures": {"bootstrap_reps": 200, "pbo_blocks": 8},
}
SMALL_TOML = (
    'signals = ["momentum_24h", "short_reversal", "low_vol"]\nhorizons = [1, 4]\n'
    "min_assets = 5\nfactor_window = 120\n[splits]\ntest_size = 240\nmin_train_size = 480\n"
    "embargo = 4\n[procedures]\nbootstrap_reps = 200\npbo_blocks = 8\n"
)
DATASET = DatasetId(DatasetMode.STRICT, "d" * 64)


def workspace(directory: Path) -> Settings:
    """A migrated SQLite workspace with 60 days of synthetic hourly bars for 12 assets."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = load_settings(
        db_url=f"sqlite:///{directory / 'w.sqlite'}",
        artifacts=f"file://{directory / 'artifacts'}",
    )
    init_workspace(settings)
    engine = create_db_engine(settings.db_url)
    ingest_synthetic(engine, MARKET)
    engine.dispose()
    return settings


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"], env=os.environ.copy())
    child.wait()
    return child.pid


def mini_run(
    engine: sa.Engine, store: ArtifactStore, run_instance_id: str, *, tenant_id: str = "default"
) -> RunArtifacts:
    """A succeeded run with the report's kinds of artifacts and edges, recorded like the report."""
    config = {"run": run_instance_id}
    key = run_key(DATASET, config)
    with engine.begin() as connection:
        start_run(
            connection, tenant_id=tenant_id, run_key=key, run_instance_id=run_instance_id,
            dataset_id=DATASET, config=config, actor="t",
        )  # fmt: skip
    written = RunArtifacts(store, run_instance_id)
    base = (("uses_dataset", DATASET.value), ("uses_config", "c" * 64))
    written.put_json("config.json", config, artifact_type="config", edges=base)
    written.put_json("split_plan.json", {"folds": 3}, artifact_type="split_plan", edges=base)
    written.put_json(
        "attestation/fold_causality.json", {"ok": True}, artifact_type="attestation",
        edges=(("attests", "split_plan.json"), *base),
    )  # fmt: skip
    written.put(
        "ic/oos_ic.csv", b"t,ic\n1,0.1\n", artifact_type="ic_series",
        edges=(("uses_folds", "split_plan.json"), *base),
    )  # fmt: skip
    written.put_json(
        "stats/family.json", {"rc_p": 0.2}, artifact_type="family_tests",
        edges=(("derived_from", "ic/oos_ic.csv"),),
    )  # fmt: skip
    written.put("figures/ic_decay.png", b"\x89PNG fake", artifact_type="figure")
    written.put_manifest(edges=base)
    with engine.begin() as connection:
        record_lineage(
            connection, tenant_id=tenant_id, run_instance_id=run_instance_id,
            records=written.records, edges=written.edges,
        )  # fmt: skip
        for name, ref in sorted(written.refs.items()):
            record_run_artifact(
                connection, tenant_id=tenant_id, run_instance_id=run_instance_id, name=name,
                sha256=ref.sha256, uri=ref.uri, media_type=written.media_type(name),
                size_bytes=ref.size,
            )  # fmt: skip
        finish_run(
            connection, tenant_id=tenant_id, run_instance_id=run_instance_id, status="succeeded"
        )
    return written


def drop_lineage_triggers(engine: sa.Engine) -> None:
    """What a user with DDL rights can do: remove the append-only guards of the lineage tables."""
    names = [
        f"trg_{table}_no_{action}"
        for table in ("artifact_lineage", "artifact_edges")
        for action in ("update", "delete")
    ]
    with engine.begin() as connection:
        for name in names:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql(f"DROP TRIGGER {name}")
            else:
                table = name.removeprefix("trg_").rsplit("_no_", 1)[0]
                connection.exec_driver_sql(f'DROP TRIGGER "{name}" ON "{table}"')
