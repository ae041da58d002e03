"""Benchmark SQLite against PostgreSQL on the same work: ingest, dataset id, governance.

Usage::

    .venv/bin/python benchmarks/bench_backends.py                       # throwaway PostgreSQL
    .venv/bin/python benchmarks/bench_backends.py --postgres-url postgresql://…/postgres

Each backend gets a fresh workspace (PostgreSQL: a new database on the server, migrated by the
owner, used through the non-owner application role exactly as a deployment would, so row-level
security is in the measured path). Measured, best of ``--repeat``:

* ingest rows/s: ``ingest_synthetic`` of ``--assets`` × ``--days`` hourly bars into a fresh tenant
  (validation, provenance, point-in-time revision, one transaction);
* dataset id rows/s: ``compute_dataset_id`` (STRICT) over those rows;
* evaluations/s: ``GovernanceService.evaluate`` re-evaluations of a report run's candidates (bundle
  re-hash, research history, policy, report + event + MACs in one locked transaction);
* PostgreSQL only, evaluations/s with 8 concurrent clients (threads on one pooled engine, each
  evaluating its own candidate of the same tenant: they queue on the tenant's chain lock, so this
  shows what the lock costs and what the pool overlaps — the reads and the policy).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from crypto_analyzer.core.service_key import create_service_key
from crypto_analyzer.core.settings import Settings, load_settings, reset_settings_cache
from crypto_analyzer.db.dataset_id import compute_dataset_id
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.governance import open_service
from crypto_analyzer.ingest.synthetic import SyntheticMarketConfig, ingest_synthetic
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report
from crypto_analyzer.pipeline.workspace import init_workspace

REPORT = {
    "signals": ["volume_shock", "momentum_24h", "low_vol", "short_reversal"],
    "horizons": [1, 4],
    "min_assets": 5,
    "factor_window": 240,
    "splits": {"test_size": 480, "min_train_size": 960, "embargo": 4},
    "portfolio": {"k": 4, "target_capital": 10_000.0, "capital_grid": [5_000.0, 10_000.0]},
    "procedures": {"bootstrap_reps": 200, "pbo_blocks": 8},
}
CLIENTS = 8


def _best(repeat: int, run: Callable[[int], float]) -> float:
    return min(run(index) for index in range(repeat))


@contextmanager
def _postgres(url: str | None) -> Iterator[str]:
    """A new database on ``url``'s server (or on a throwaway server), dropped afterwards."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "trigger_manifest.py"
    spec = importlib.util.spec_from_file_location("trigger_manifest", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with module._postgres_server(url) as server:  # the throwaway cluster of the manifest script
        admin = sa.create_engine(
            server.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        )
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield server.rsplit("/", 1)[0] + f"/{name}"
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def _settings(owner_url: str, directory: Path, tenant: str) -> Settings:
    if owner_url.startswith("sqlite"):
        return load_settings(db_url=owner_url, artifacts=f"file://{directory}", tenant=tenant)
    app = sa.make_url(owner_url).set(username="crypto_analyzer_app", password=None)
    return load_settings(
        db_url=app.render_as_string(hide_password=False),
        admin_db_url=owner_url,
        artifacts=f"file://{directory}",
        tenant=tenant,
    )


def _measure(owner_url: str, directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    market = SyntheticMarketConfig(assets=args.assets, days=args.days, seed=7, planted_ic=0.06)
    rows = market.assets * market.n_bars
    init_workspace(_settings(owner_url, directory, "default"))
    results: dict[str, Any] = {}

    def ingest(index: int) -> float:
        settings = _settings(owner_url, directory, f"ingest-{index}")
        engine = create_db_engine(settings.db_url, tenant=settings.tenant)
        try:
            began = time.perf_counter()
            ingest_synthetic(engine, market, tenant_id=settings.tenant)
            return time.perf_counter() - began
        finally:
            engine.dispose()

    results["ingest_rows_per_s"] = rows / _best(args.repeat, ingest)

    identities: set[str] = set()

    def dataset(_index: int) -> float:
        settings = _settings(owner_url, directory, "ingest-0")
        engine = create_db_engine(settings.db_url, tenant=settings.tenant)
        try:
            began = time.perf_counter()
            identity = compute_dataset_id(engine, tenant_id=settings.tenant)
            took = time.perf_counter() - began
            identities.add(identity.dataset_id.value)
            return took
        finally:
            engine.dispose()

    results["dataset_id_rows_per_s"] = rows / _best(args.repeat, dataset)
    (results["dataset_id"],) = identities

    settings = _settings(owner_url, directory, "default")
    engine = create_db_engine(settings.db_url, tenant=settings.tenant)
    try:
        ingest_synthetic(engine, market, tenant_id=settings.tenant)
    finally:
        engine.dispose()
    report = run_report(settings, ReportConfig.model_validate(REPORT), actor="alice")
    with open_service(settings, read_only=False) as service:
        candidates = [
            service.create(
                run_instance_id=report.run_instance_id, signal=signal, horizon=horizon,
                actor="alice",
            ).candidate_id
            for signal in REPORT["signals"]
            for horizon in REPORT["horizons"]
        ]  # fmt: skip

        def evaluate(_index: int) -> float:
            began = time.perf_counter()
            for _ in range(args.evaluations):
                service.evaluate(candidates[0], target="candidate", actor="alice")
            return (time.perf_counter() - began) / args.evaluations

        results["evaluations_per_s"] = 1.0 / _best(args.repeat, evaluate)

        if not owner_url.startswith("sqlite"):

            def concurrent(_index: int) -> float:
                start = threading.Barrier(CLIENTS)
                errors: list[BaseException] = []

                def client(candidate: str) -> None:
                    start.wait()
                    try:
                        for _ in range(args.evaluations):
                            service.evaluate(candidate, target="candidate", actor="alice")
                    except BaseException as exc:  # reported below
                        errors.append(exc)

                threads = [threading.Thread(target=client, args=(c,)) for c in candidates]
                began = time.perf_counter()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                if errors:
                    raise errors[0]
                return (time.perf_counter() - began) / (CLIENTS * args.evaluations)

            results["evaluations_per_s_8_clients"] = 1.0 / _best(args.repeat, concurrent)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=None, help="a server URL (superuser/owner)")
    parser.add_argument("--assets", type=int, default=30)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--evaluations", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.repeat < 3:
        parser.error("--repeat must be at least 3 (best of at least three runs)")
    with tempfile.TemporaryDirectory(prefix="bench-backends-") as temporary:
        base = Path(temporary)
        os.environ["CRYPTO_ANALYZER_SERVICE_KEY_FILE"] = str(
            create_service_key(base / "service.key").path
        )
        reset_settings_cache()
        table: dict[str, dict[str, Any]] = {}
        table["sqlite"] = _measure(f"sqlite:///{base / 'w.sqlite'}", base / "a-sqlite", args)
        with _postgres(args.postgres_url) as url:
            table["postgresql"] = _measure(url, base / "a-pg", args)
    if table["sqlite"]["dataset_id"] != table["postgresql"]["dataset_id"]:
        raise SystemExit("the two backends hashed different data: the numbers are not comparable")
    rows = args.assets * SyntheticMarketConfig(assets=args.assets, days=args.days).n_bars
    print(f"{rows:,} bars per ingest; best of {args.repeat}; {args.evaluations} evaluations/run")
    for name in ("ingest_rows_per_s", "dataset_id_rows_per_s", "evaluations_per_s"):
        line = "  ".join(f"{backend} {values[name]:>12,.1f}" for backend, values in table.items())
        print(f"{name:<30} {line}")
    print(f"{'evaluations_per_s_8_clients':<30} postgresql "
          f"{table['postgresql']['evaluations_per_s_8_clients']:>12,.1f}")  # fmt: skip
    print(json.dumps(table, sort_keys=True))


if __name__ == "__main__":
    main()
