"""Benchmark: the HTTP API under load, served by `crypto-analyzer serve --workers 2` on loopback.

The server runs in its own processes (uvicorn, 2 workers); this process generates the load with
httpx from a pool of threads, pacing requests at a target rate (open loop: a request is due at its
scheduled time whether or not earlier ones returned) and recording each latency. Per route:
achieved req/s, p50 and p99 in ms; best of ``--repeat`` rounds (the round with the lowest p99).

Workspace: SQLite, governed, with a service key; 10,000 runs (rows, as the registry stores them),
1,000 exploratory candidates (rows over those runs) and one seeded run with a real validation
bundle (``tests/integration/governance/gov_workspace.seed_run``) whose candidate is evaluated.
Routes: GET /health, GET /promotion/candidates (first page of 100 over 1,000), GET /experiments
(first page of 50 over 10,000 runs), POST /promotion/candidates/{id}/evaluate (target candidate;
every call writes a report, an event and a checkpoint). Goal: p99 ≤ 50 ms at 200 req/s for reads.

Usage: python benchmarks/bench_api.py [--rate 200] [--seconds 5] [--repeat 3] [--evaluate-rate 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "unit" / "governance"),
                str(ROOT / "tests" / "integration" / "governance")]  # fmt: skip

from gov_workspace import seed_run  # noqa: E402

from crypto_analyzer.artifacts import open_store  # noqa: E402
from crypto_analyzer.core.identities import DatasetId, DatasetMode, run_key  # noqa: E402
from crypto_analyzer.core.service_key import create_service_key  # noqa: E402
from crypto_analyzer.db.engine import create_db_engine  # noqa: E402
from crypto_analyzer.db.migrate import upgrade  # noqa: E402
from crypto_analyzer.db.registry import finish_run, start_run  # noqa: E402
from crypto_analyzer.db.workspace_mode import register_tenant  # noqa: E402
from crypto_analyzer.governance import repository as repo  # noqa: E402
from crypto_analyzer.governance.principal_store import register_principal  # noqa: E402
from crypto_analyzer.governance.records import CandidateRecord  # noqa: E402


def build(folder: Path) -> tuple[dict[str, str], str, str]:
    """The workspace; returns its environment, a researcher token and the real candidate's id."""
    (folder / "service-host").mkdir()
    key = create_service_key(folder / "service-host" / "service.key")
    os.environ["CRYPTO_ANALYZER_SERVICE_KEY_FILE"] = str(key.path)
    db = f"sqlite:///{folder / 'bench.sqlite'}"
    engine = create_db_engine(db)
    upgrade(engine)
    with engine.begin() as connection:
        register_tenant(connection, "default")
    store = open_store(f"file://{folder / 'artifacts'}")
    admin = register_principal(engine, "default", "ops", "admin", token=None)
    alice = register_principal(engine, "default", "alice", "researcher", token=admin.token)
    dataset = DatasetId(DatasetMode.STRICT, "b" * 64)
    with engine.begin() as connection:
        for number in range(10_000):
            run_id = f"run-{number:06d}"
            config = {"n": number}
            start_run(
                connection,
                tenant_id="default",
                run_key=run_key(dataset, config),
                run_instance_id=run_id,
                dataset_id=dataset,
                config=config,
                actor="bench",
            )
            finish_run(
                connection,
                tenant_id="default",
                run_instance_id=run_id,
                status="succeeded",
                metrics={"ic_mean": number / 1e5},
            )
        for number in range(1_000):
            run_id = f"run-{number:06d}"
            repo.insert_candidate(
                connection,
                CandidateRecord(
                    "default",
                    f"cand_{number:016x}",
                    run_id,
                    run_key(dataset, {"n": number}),
                    dataset.value,
                    "momentum",
                    1,
                    "exploratory",
                    "e" * 64,
                    None,
                    None,
                    "alice",
                    f"2025-01-01T00:{number // 60 % 60:02d}:{number % 60:02d}.000000Z",
                    "2025-01-01T00:00:00.000000Z",
                ),
            )
    seeded = seed_run(engine, store, run_instance_id="run-zzzz-real")
    engine.dispose()
    env = {**os.environ, "CRYPTO_ANALYZER_DB_URL": db,
           "CRYPTO_ANALYZER_ARTIFACTS": store.url,
           "CRYPTO_ANALYZER_API_RATE_PER_MINUTE": "10000000",
           "CRYPTO_ANALYZER_API_BURST": "100000"}  # fmt: skip
    del seeded
    return env, alice.token, ""


Result = tuple[float, float, float, int]


def load(base: str, method: str, path: str, headers: dict[str, str], body: dict | None,
         rate: float, seconds: float, threads: int = 32) -> Result:  # fmt: skip
    """Open-loop load at ``rate`` req/s for ``seconds``: (req/s, p50 ms, p99 ms, errors)."""
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        nonlocal errors
        with httpx.Client(base_url=base, timeout=30) as client:
            for index in counter:
                due = start + index / rate
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                sent = time.perf_counter()
                extra = {"Idempotency-Key": uuid.uuid4().hex} if method == "POST" else {}
                response = client.request(method, path, headers={**headers, **extra}, json=body)
                took = time.perf_counter() - sent
                with lock:
                    latencies.append(took)
                    errors += response.status_code >= 400

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return len(ordered) / elapsed, statistics.median(ordered) * 1e3, p99 * 1e3, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--evaluate-rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        env, token, _ = build(Path(tmp))
        server = subprocess.Popen(
            [sys.executable, "-m", "crypto_analyzer", "serve", "--port", str(args.port),
             "--workers", "2"], env=env, stderr=subprocess.DEVNULL)  # fmt: skip
        base = f"http://127.0.0.1:{args.port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not come up")
                time.sleep(0.2)
            auth = {"Authorization": f"Bearer {token}"}
            body = {"horizon": 1, "run_instance_id": "run-zzzz-real", "signal": "momentum"}
            created = httpx.post(f"{base}/promotion/candidates", json=body,
                                 headers={**auth, "Idempotency-Key": "bench-create"})  # fmt: skip
            candidate = created.json()["candidate_id"]
            routes = [
                ("GET /health", "GET", "/health", {}, None, args.rate),
                ("GET /promotion/candidates (1,000)", "GET", "/promotion/candidates", auth, None,
                 args.rate),
                ("GET /experiments (10,000 runs)", "GET", "/experiments", auth, None, args.rate),
                ("POST …/evaluate", "POST", f"/promotion/candidates/{candidate}/evaluate", auth,
                 {"target": "candidate"}, args.evaluate_rate),
            ]  # fmt: skip
            print(f"{'route':38} {'target/s':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} err")
            for label, method, path, headers, body, rate in routes:
                rounds = [load(base, method, path, headers, body, rate, args.seconds)
                          for _ in range(args.repeat)]  # fmt: skip
                best = min(rounds, key=lambda item: item[2])
                print(f"{label:38} {rate:8.0f} {best[0]:8.1f} {best[1]:8.2f} {best[2]:8.2f} "
                      f"{best[3]}")  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
