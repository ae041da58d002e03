"""A run's stored evidence, read back for display: artifact bytes (hash-checked) and the numbers
the run detail page charts.

Everything comes from the run's lineage rows (``governance.repository.lineage_rows``) and the bytes
in the artifact store (located with ``governance.bundles.store_key``); bytes whose SHA-256 does
not match their lineage row are refused, never shown. Artifacts are immutable, so parsed views are
cached by their SHA-256.
"""

from __future__ import annotations

import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy.engine import Engine

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.core.errors import ArtifactStoreError, NotFoundError
from crypto_analyzer.core.hashing import sha256_bytes
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.governance.bundles import store_key

__all__ = ["ROLLING_WINDOW", "ArtifactRow", "RunEvidence", "read_artifact", "run_artifacts"]

T = TypeVar("T")
ROLLING_WINDOW = 168
"""Bars in the rolling-IC window (one week of hourly bars)."""


@dataclass(frozen=True, slots=True)
class ArtifactRow:
    """One artifact of a run as its lineage row records it."""

    name: str
    sha256: str
    size: int
    artifact_type: str
    uri: str


def run_artifacts(engine: Engine, tenant_id: str, run_instance_id: str) -> list[ArtifactRow]:
    """Every artifact the run recorded, by logical name."""
    with engine.connect() as connection:
        rows = repo.lineage_rows(connection, tenant_id, run_instance_id)
    return [
        ArtifactRow(
            row["logical_name"],
            row["artifact_sha256"],
            int(row["size_bytes"]),
            row["artifact_type"],
            row["uri"],
        )
        for row in rows
    ]


def read_artifact(
    engine: Engine, store: ArtifactStore, tenant_id: str, run_instance_id: str, name: str
) -> tuple[ArtifactRow, bytes]:
    """The bytes of artifact ``name`` of the run, checked against its recorded SHA-256."""
    found = {row.name: row for row in run_artifacts(engine, tenant_id, run_instance_id)}
    row = found.get(name)
    if row is None:
        raise NotFoundError(
            f"run {run_instance_id} has no artifact {name!r} in tenant {tenant_id!r}",
            "pick one from the run's artifact list",
        )
    data = store.get(store_key(store, row.uri))
    if sha256_bytes(data) != row.sha256:
        raise ArtifactStoreError(
            f"artifact {name!r} of run {run_instance_id} does not match its recorded SHA-256",
            "the store was changed after the run; run `crypto-analyzer audit verify`",
        )
    return row, data


class _Cache:
    """Parsed artifacts by (sha256, what): content-addressed, so never stale."""

    def __init__(self, limit: int = 256) -> None:
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def get(self, key: tuple[str, str], make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._limit:
                self._items.popitem(last=False)
        return value


_CACHE = _Cache()


class RunEvidence:
    """The parsed artifacts of one run that the detail and compare pages show."""

    def __init__(
        self, engine: Engine, store: ArtifactStore, tenant_id: str, run_instance_id: str
    ) -> None:
        self._engine, self._store = engine, store
        self._tenant, self._run = tenant_id, run_instance_id
        self.artifacts = run_artifacts(engine, tenant_id, run_instance_id)
        self._by_name = {row.name: row for row in self.artifacts}

    def has(self, name: str) -> bool:
        return name in self._by_name

    def _parsed(self, name: str, what: str, parse: Callable[[bytes], T]) -> T | None:
        row = self._by_name.get(name)
        if row is None:
            return None

        def make() -> T:
            _, data = read_artifact(self._engine, self._store, self._tenant, self._run, name)
            return parse(data)

        return _CACHE.get((row.sha256, what), make)

    def json(self, name: str) -> Any:
        return self._parsed(name, "json", lambda data: json.loads(data.decode("utf-8")))

    def frame(self, name: str) -> pd.DataFrame | None:
        return self._parsed(name, "csv", lambda data: pd.read_csv(io.BytesIO(data), index_col=0))

    # -- the numbers the pages chart ---------------------------------------------------------

    def overview(self) -> dict[str, Any]:
        value = self.json("stats/overview.json")
        return value if isinstance(value, dict) else {}

    def ic_decay(self) -> dict[str, list[tuple[float, float]]]:
        """Mean OOS IC by horizon for each signal (from ``ic/summary.json``)."""
        summary = self.json("ic/summary.json") or {}
        decay: dict[str, list[tuple[float, float]]] = {}
        for hypothesis, row in summary.items():
            signal, _, horizon = str(hypothesis).rpartition("@")
            mean = row.get("mean") if isinstance(row, dict) else None
            if signal and horizon.isdigit() and isinstance(mean, (int, float)):
                decay.setdefault(signal, []).append((float(horizon), float(mean)))
        return {signal: sorted(points) for signal, points in sorted(decay.items())}

    def cumulative_returns(self) -> dict[str, list[tuple[float, float]]]:
        """Cumulative OOS net returns of each hypothesis's long-short quantile portfolio."""
        frame = self._parsed("portfolio/net_returns.csv", "cumulative", _cumulative)
        return frame or {}

    def rolling_ic(self) -> dict[str, list[tuple[float, float]]]:
        """Rolling mean OOS IC (``ROLLING_WINDOW`` bars) of each hypothesis."""
        return self._parsed("ic/oos_ic.csv", "rolling", _rolling) or {}

    def capacity(self) -> dict[str, list[tuple[float, float]]]:
        """Net Sharpe against capital for each hypothesis (execution evidence)."""
        curves: dict[str, list[tuple[float, float]]] = {}
        for row in self.artifacts:
            if row.name.startswith("execution/") and row.name.endswith(".json"):
                document = self.json(row.name) or {}
                points = [
                    (float(item["aum"]), float(item["net_sharpe"]))
                    for item in document.get("curve", [])
                    if isinstance(item.get("net_sharpe"), (int, float))
                ]
                curves[row.name.removeprefix("execution/").removesuffix(".json")] = points
        return curves

    def pbo(self) -> dict[str, Any] | None:
        value = self.json("stats/pbo.json")
        return value if isinstance(value, dict) else None

    def family(self) -> dict[str, Any] | None:
        value = self.json("stats/family.json")
        return value if isinstance(value, dict) else None

    def regimes(self) -> list[tuple[str, Any]]:
        """Regime artifacts the run recorded (name, parsed JSON), if any."""
        return [
            (row.name, self.json(row.name))
            for row in self.artifacts
            if row.name.startswith("regime") and row.name.endswith(".json")
        ]


def _series(frame: pd.DataFrame) -> dict[str, list[tuple[float, float]]]:
    index = [float(value) for value in frame.index]
    return {
        str(column): [(x, float(y)) for x, y in zip(index, frame[column], strict=True)]
        for column in frame.columns
    }


def _cumulative(data: bytes) -> dict[str, list[tuple[float, float]]]:
    frame = pd.read_csv(io.BytesIO(data), index_col=0)
    return _series(frame.fillna(0.0).cumsum())


def _rolling(data: bytes) -> dict[str, list[tuple[float, float]]]:
    frame = pd.read_csv(io.BytesIO(data), index_col=0)
    rolled = frame.rolling(ROLLING_WINDOW, min_periods=ROLLING_WINDOW // 2).mean()
    return _series(rolled.dropna(how="all"))
