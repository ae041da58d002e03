"""Circuit breaker per (provider, data kind), with its state persisted in ``provider_health``.

closed → open after ``failure_threshold`` consecutive failures; open refuses calls until
``cooldown`` has passed since it opened, then lets one trial call through (half-open); the trial's
success closes the circuit, its failure reopens it with a fresh cooldown. The state lives in the
database, so a new process (or ``providers status``) sees what the last one learned, and time comes
from an injected clock so tests move it instead of sleeping. The default is the real wall clock,
not the project clock: a pinned ``CRYPTO_ANALYZER_FIXED_TIME`` would otherwise keep an opened
circuit open forever.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from crypto_analyzer.core.clock import to_iso, wall_now
from crypto_analyzer.db.schema import provider_health
from crypto_analyzer.ingest.providers.errors import CircuitOpenError

__all__ = [
    "BreakerConfig",
    "CircuitBreaker",
    "DatabaseHealthStore",
    "HealthRecord",
    "HealthStore",
    "MemoryHealthStore",
]


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """When to open and how long to stay open."""

    failure_threshold: int = 5
    cooldown: timedelta = timedelta(seconds=60)

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {self.failure_threshold}")
        if self.cooldown < timedelta(0):
            raise ValueError(f"cooldown must be >= 0, got {self.cooldown}")


@dataclass(frozen=True, slots=True)
class HealthRecord:
    """One ``provider_health`` row."""

    provider: str
    data_kind: str
    breaker_state: str = "closed"
    consecutive_failures: int = 0
    last_success_at: str | None = None
    last_failure_at: str | None = None
    last_error: str | None = None
    opened_at: str | None = None
    updated_at: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "breaker_state": self.breaker_state,
            "consecutive_failures": self.consecutive_failures,
            "data_kind": self.data_kind,
            "last_error": self.last_error,
            "last_failure_at": self.last_failure_at,
            "last_success_at": self.last_success_at,
            "opened_at": self.opened_at,
            "provider": self.provider,
            "updated_at": self.updated_at,
        }


class HealthStore(Protocol):
    """Where breaker state lives."""

    def load(self, provider: str, data_kind: str) -> HealthRecord | None: ...

    def save(self, record: HealthRecord) -> None: ...


class MemoryHealthStore:
    """Process-local state, for callers without a database (nothing is persisted)."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], HealthRecord] = {}

    def load(self, provider: str, data_kind: str) -> HealthRecord | None:
        return self._records.get((provider, data_kind))

    def save(self, record: HealthRecord) -> None:
        self._records[(record.provider, record.data_kind)] = record


class DatabaseHealthStore:
    """``provider_health`` rows of one tenant (upsert keyed by provider and data kind)."""

    _FIELDS = (
        "breaker_state",
        "consecutive_failures",
        "last_success_at",
        "last_failure_at",
        "last_error",
        "opened_at",
        "updated_at",
    )

    def __init__(self, engine: Engine, *, tenant_id: str = "default") -> None:
        self._engine = engine
        self._tenant_id = tenant_id

    def load(self, provider: str, data_kind: str) -> HealthRecord | None:
        table = provider_health
        with self._engine.connect() as connection:
            row = (
                connection.execute(
                    sa.select(table).where(
                        table.c.tenant_id == self._tenant_id,
                        table.c.provider == provider,
                        table.c.data_kind == data_kind,
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        return HealthRecord(provider, data_kind, **{name: row[name] for name in self._FIELDS})

    def save(self, record: HealthRecord) -> None:
        dialect = sqlite if self._engine.dialect.name == "sqlite" else postgresql
        values = {name: getattr(record, name) for name in self._FIELDS}
        statement = dialect.insert(provider_health).values(
            tenant_id=self._tenant_id,
            provider=record.provider,
            data_kind=record.data_kind,
            **values,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["tenant_id", "provider", "data_kind"], set_=values
        )
        with self._engine.begin() as connection:
            connection.execute(statement)


class CircuitBreaker:
    """Guards one (provider, data kind); every transition is saved to the store."""

    def __init__(
        self,
        store: HealthStore,
        provider: str,
        data_kind: str,
        config: BreakerConfig | None = None,
        *,
        clock: Callable[[], datetime] = wall_now,
    ) -> None:
        self._store = store
        self._config = config or BreakerConfig()
        self._clock = clock
        self._key = (provider, data_kind)

    @property
    def state(self) -> str:
        """Current state as stored (``closed``, ``open`` or ``half_open``)."""
        return self._record().breaker_state

    def before_call(self) -> None:
        """Raise :class:`CircuitOpenError` while open; move to half-open once cooled down."""
        record = self._record()
        if record.breaker_state != "open":
            return
        opened = datetime.fromisoformat(record.opened_at) if record.opened_at else None
        moment = self._clock()
        if opened is not None and moment - opened < self._config.cooldown:
            remaining = self._config.cooldown - (moment - opened)
            raise CircuitOpenError(
                record.provider,
                f"circuit open for {record.data_kind} after "
                f"{record.consecutive_failures} failure(s): {record.last_error}",
                f"retrying in {remaining.total_seconds():.0f} s; see `providers status`",
            )
        self._store.save(replace(record, breaker_state="half_open", updated_at=to_iso(moment)))

    def record_success(self) -> None:
        stamp = to_iso(self._clock())
        record = self._record()
        self._store.save(
            replace(
                record,
                breaker_state="closed",
                consecutive_failures=0,
                last_success_at=stamp,
                opened_at=None,
                updated_at=stamp,
            )
        )

    def record_failure(self, error: str) -> None:
        stamp = to_iso(self._clock())
        record = self._record()
        failures = record.consecutive_failures + 1
        opens = record.breaker_state == "half_open" or failures >= self._config.failure_threshold
        state = "open" if opens else record.breaker_state
        self._store.save(
            replace(
                record,
                breaker_state=state,
                consecutive_failures=failures,
                last_failure_at=stamp,
                last_error=error[:500],
                opened_at=stamp if opens else record.opened_at,
                updated_at=stamp,
            )
        )

    def _record(self) -> HealthRecord:
        found = self._store.load(*self._key)
        return found or HealthRecord(*self._key, updated_at=to_iso(self._clock()))
