"""Database health: reachable, schema at head, storage integrity, append-only triggers present.

Every check is read-only so ``doctor`` can run against a production database or a read-only file.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.db.migrate import schema_status
from crypto_analyzer.db.schema import APPEND_ONLY_TABLES

__all__ = ["HealthCheck", "database_health", "expected_triggers", "present_triggers"]


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """One named check with its verdict and a human-readable detail."""

    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"detail": self.detail, "name": self.name, "ok": self.ok}


def expected_triggers() -> set[str]:
    """Names of the triggers the migrations create on both dialects.

    The append-only triggers (UPDATE and DELETE per table, revisions 0001 and 0004), the
    governance guards of revision 0002 (the promotion state machine on ``promotion_candidates``
    and the chain-extension check on ``governance_events``) and the point-in-time guards of
    revision 0004 (the revision log extends by one; history keeps only replaced versions; market
    rows are restated under the next revision, copied into history, never deleted).
    """
    append_only = {
        f"trg_{table}_no_{action}"
        for table in APPEND_ONLY_TABLES
        for action in ("update", "delete")
    }
    governance = {
        "trg_promotion_candidates_guard_insert",
        "trg_promotion_candidates_guard_update",
        "trg_promotion_candidates_no_delete",
        "trg_governance_events_guard_insert",
    }
    point_in_time = {
        "trg_market_revisions_guard_insert",
        *(f"trg_{table}_history_guard_insert" for table in ("bars", "instruments")),
        *(
            f"trg_{table}_{guard}"
            for table in ("bars", "instruments")
            for guard in ("guard_update", "keep_history", "no_delete")
        ),
    }
    return append_only | governance | point_in_time


def present_triggers(connection: sa.Connection) -> set[str]:
    """Trigger names that exist in the database."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    else:
        rows = connection.exec_driver_sql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    return {row[0] for row in rows}


def database_health(engine: Engine, *, full_integrity: bool = False) -> list[HealthCheck]:
    """Run the checks in order; later checks are skipped (and reported failed) if the DB is down."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception as exc:  # any driver error means "not reachable" for a health report
        return [HealthCheck("database reachable", False, _one_line(exc))]
    checks = [HealthCheck("database reachable", True, engine.dialect.name)]

    status = schema_status(engine)
    if status.at_head:
        checks.append(HealthCheck("schema at head", True, f"revision {status.current}"))
    else:
        pending = ", ".join(status.pending) or "none"
        checks.append(
            HealthCheck(
                "schema at head",
                False,
                f"at {status.current or 'no schema'}, head {status.head}, pending {pending}; "
                "run `crypto-analyzer db upgrade`",
            )
        )

    with engine.connect() as connection:
        checks.append(_integrity(connection, full=full_integrity))
        if status.current is not None:
            missing = sorted(expected_triggers() - present_triggers(connection))
            detail = "all present" if not missing else f"missing: {', '.join(missing)}"
            checks.append(HealthCheck("append-only triggers", not missing, detail))
    return checks


def _integrity(connection: sa.Connection, *, full: bool) -> HealthCheck:
    if connection.dialect.name != "sqlite":
        return HealthCheck("storage integrity", True, "managed by the PostgreSQL server")
    pragma = "integrity_check" if full else "quick_check"
    results = [row[0] for row in connection.exec_driver_sql(f"PRAGMA {pragma}")]
    ok = results == ["ok"]
    detail = f"{pragma}: ok" if ok else f"{pragma}: {'; '.join(results[:5])}"
    return HealthCheck("storage integrity", ok, detail)


def _one_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
