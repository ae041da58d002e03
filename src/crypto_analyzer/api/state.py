"""What the app holds while it runs: engines, artifact store, policy, service key, limits.

Everything is built in the lifespan (``open_state``) and released when it ends — nothing at
import. Two engines: reads go through a read-only one (SQLite ``mode=ro`` + ``query_only``;
PostgreSQL read-only transactions), so no read route can write, let alone run DDL; governed
writes and idempotency records go through the writable one. The schema is never migrated here:
a database behind head answers 503 until ``crypto-analyzer db upgrade`` has run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from crypto_analyzer.api.config import ApiConfig
from crypto_analyzer.api.idempotency import IdempotencyStore
from crypto_analyzer.api.ratelimit import RateLimiter
from crypto_analyzer.artifacts import ArtifactStore, open_settings_store
from crypto_analyzer.core.errors import SchemaNotReadyError
from crypto_analyzer.core.service_key import ServiceKey, resolve_service_key
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import current_revision, head_revision
from crypto_analyzer.governance import GovernanceService
from crypto_analyzer.governance.policy import PolicySet, load_policy_set

__all__ = ["AppState", "open_state"]


@dataclass(slots=True)
class AppState:
    """The running service's resources (one per worker process)."""

    settings: Settings
    config: ApiConfig
    reader: Engine
    writer: Engine
    store: ArtifactStore
    policy: PolicySet
    service_key: ServiceKey | None
    head: str
    limiter: RateLimiter
    idempotency: IdempotencyStore
    schema_ready: bool = False

    def require_schema(self) -> None:
        """Refuse (503) while the database is not at the head this code expects; once it is, the
        answer is remembered (a running service never migrates, so it cannot fall behind)."""
        if self.schema_ready:
            return
        current = current_revision(self.reader)
        if current != self.head:
            raise SchemaNotReadyError(
                f"database schema is at {current or 'no revision'}, this service needs {self.head}",
                "run `crypto-analyzer db upgrade`, then retry",
            )
        self.schema_ready = True

    def reading(self, tenant_id: str) -> GovernanceService:
        """The governance service for reads in ``tenant_id`` (no policy, no key needed)."""
        return GovernanceService(
            self.reader, self.store, tenant_id=tenant_id, policy=None, service_key=None
        )

    def writing(self, tenant_id: str) -> GovernanceService:
        """The governance service for governed writes in ``tenant_id``."""
        return GovernanceService(
            self.writer,
            self.store,
            tenant_id=tenant_id,
            policy=self.policy,
            service_key=self.service_key,
        )


@contextmanager
def open_state(settings: Settings, config: ApiConfig) -> Iterator[AppState]:
    """Build the state from settings; dispose of the engines on exit."""
    policy = load_policy_set(config.policy_path)
    key = resolve_service_key(settings.db_url)
    store = open_settings_store(settings)
    reader = create_db_engine(settings.db_url, read_only=True)
    writer = create_db_engine(settings.db_url, read_only=False, must_exist=True)
    try:
        yield AppState(
            settings=settings,
            config=config,
            reader=reader,
            writer=writer,
            store=store,
            policy=policy,
            service_key=key,
            head=head_revision(),
            limiter=RateLimiter(config.rate_per_minute, config.burst),
            idempotency=IdempotencyStore(writer, wait=config.idempotency_wait),
        )
    finally:
        reader.dispose()
        writer.dispose()
