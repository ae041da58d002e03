"""Provider health as recorded by the circuit breakers (``providers status``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.db.schema import provider_health
from crypto_analyzer.ingest.resilience.breaker import HealthRecord

__all__ = ["provider_status"]


def provider_status(engine: Engine, tenant_id: str = "default") -> list[HealthRecord]:
    """Every (provider, data kind) the tenant's breakers have seen, sorted by name and kind."""
    table = provider_health
    with engine.connect() as connection:
        rows = (
            connection.execute(
                sa.select(table)
                .where(table.c.tenant_id == tenant_id)
                .order_by(table.c.provider, table.c.data_kind)
            )
            .mappings()
            .all()
        )
    return [
        HealthRecord(
            provider=row["provider"],
            data_kind=row["data_kind"],
            breaker_state=row["breaker_state"],
            consecutive_failures=row["consecutive_failures"],
            last_success_at=row["last_success_at"],
            last_failure_at=row["last_failure_at"],
            last_error=row["last_error"],
            opened_at=row["opened_at"],
            updated_at=row["updated_at"],
        )
        for row in rows
    ]
