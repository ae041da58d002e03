"""Memory of a many-file import and of ``materialize bars`` stays flat as the instruments grow.

Each size runs in a fresh child process that measures the Python heap peak (``tracemalloc``) of
the call alone, after the imports, on its own SQLite workspace. Four times the instruments must
not cost anywhere near four times the memory: the import holds one file at a time, the
materialization one group of instruments × one time window (plus its small daily output).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, tracemalloc
from pathlib import Path
import numpy as np, pandas as pd
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import upgrade
from crypto_analyzer.ingest.multi_import import import_many, plan_many
from crypto_analyzer.materialize import materialize_bars
from crypto_analyzer.materialize.chunks import ChunkBudget

work, files, hours = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
folder = work / "files"
folder.mkdir(parents=True)
for index in range(files):
    rng = np.random.default_rng(index)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, hours)))
    pd.DataFrame({"timestamp": 1_704_067_200_000 + 3_600_000 * np.arange(hours),
                  "open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
                  "volume": rng.uniform(1.0, 9.0, hours)}).to_parquet(
        folder / f"A{index:03d}-USD.parquet", index=False)
engine = create_db_engine(f"sqlite:///{work / 'w.sqlite'}")
upgrade(engine)
peaks = {}
tracemalloc.start()
plans = plan_many(sorted(folder.iterdir()), venue="x", freq="1h", symbol_from="filename")
written = import_many(engine, plans)
peaks["import"] = tracemalloc.get_traced_memory()[1]
tracemalloc.reset_peak()
result = materialize_bars(engine, "1D", budget=ChunkBudget(instruments=4, rows=12_000))
peaks["materialize"] = tracemalloc.get_traced_memory()[1]
assert sum(r.rows for r in written.results) == files * hours
assert result.buckets == files * hours // 24
print(json.dumps(peaks))
"""


def _peaks(tmp_path: Path, files: int, hours: int) -> dict[str, int]:
    work = tmp_path / f"n{files}"
    env = {**os.environ, "CRYPTO_ANALYZER_FIXED_TIME": "2030-01-01T00:00:00Z"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(work), str(files), str(hours)],
        capture_output=True, text=True, env=env, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_peak_memory_does_not_grow_with_the_number_of_instruments(tmp_path: Path) -> None:
    small = _peaks(tmp_path, files=4, hours=3_000)
    large = _peaks(tmp_path, files=16, hours=3_000)  # 4 × the rows: 48,000 hourly bars
    for stage in ("import", "materialize"):
        assert small[stage] > 1_000_000  # a real measurement: a file's rows are megabytes
        assert large[stage] < 1.5 * small[stage], (stage, small, large)
