"""What a hostile operator does to the governance record, as plain SQL with public algorithms.

T1 (DML rights): insert rows that extend the hash chains correctly (the hash algorithm is public)
and update a candidate's status, with every trigger in place. T2 (owner/DDL rights): drop the
triggers, edit or delete rows, recompute the chain, and put the triggers back exactly as they were
(so ``db check`` finds nothing). None of this has the service key, which the database never holds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from crypto_analyzer.core.canonical_json import canonical_dumps, canonical_loads
from crypto_analyzer.core.hashing import sha256_json
from crypto_analyzer.governance.chain import event_hash

__all__ = [
    "delete_and_rechain",
    "drop_triggers",
    "event_rows",
    "forge_promotion",
    "one",
    "rechain",
    "restore_triggers",
]


def one(engine: sa.Engine, sql: str, **params: Any) -> dict[str, Any]:
    with engine.connect() as connection:
        return dict(connection.execute(sa.text(sql), params).mappings().one())


def event_rows(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT * FROM governance_events WHERE tenant_id = 'default' ORDER BY seq")
        ).mappings()
        return [dict(row) for row in rows]


def drop_triggers(engine: sa.Engine) -> list[str]:
    """Drop every trigger; return the statements that recreate them exactly."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            ).all()
            for name, _ in rows:
                connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
            return [sql for _, sql in rows]
        rows = connection.exec_driver_sql(
            "SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid), t.tgenabled FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
        ).all()
        restore = []
        for name, table, definition, enabled in rows:
            connection.exec_driver_sql(f'DROP TRIGGER "{name}" ON "{table}"')
            restore.append(definition)
            if enabled == "A":
                restore.append(f'ALTER TABLE "{table}" ENABLE ALWAYS TRIGGER "{name}"')
        return restore


def restore_triggers(engine: sa.Engine, statements: list[str]) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def rechain(engine: sa.Engine) -> None:
    """Recompute every event's prev_hash and hash in seq order (triggers must be dropped)."""
    prev = "0" * 64
    with engine.begin() as connection:
        for row in event_rows(engine):
            new = event_hash(prev, row)
            connection.execute(
                sa.text(
                    "UPDATE governance_events SET prev_hash = :p, hash = :h "
                    "WHERE tenant_id = 'default' AND event_id = :e"
                ),
                {"p": prev, "h": new, "e": row["event_id"]},
            )
            prev = new


def delete_and_rechain(engine: sa.Engine, seq: int) -> None:
    """Delete the event at ``seq``, renumber the later ones and recompute the chain."""
    with engine.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM governance_events WHERE tenant_id = 'default' AND seq = :s"),
            {"s": seq},
        )
        later = connection.execute(
            sa.text(
                "SELECT event_id FROM governance_events WHERE tenant_id = 'default' AND seq > :s "
                "ORDER BY seq"
            ),
            {"s": seq},
        ).scalars()
        for event_id in list(later):
            connection.execute(
                sa.text("UPDATE governance_events SET seq = seq - 1 WHERE event_id = :e"),
                {"e": event_id},
            )
    rechain(engine)


def forge_promotion(
    engine: sa.Engine,
    candidate_id: str,
    *,
    copy_report: str,
    to: str,
    mac: str | None = None,
    mac_key_id: str | None = None,
) -> tuple[str, str]:
    """Append a complete, well-chained promotion of ``candidate_id`` to ``to``: a passing report
    (its other columns copied from report ``copy_report``), a ``promoted`` event extending the
    chain, and the status change. Returns (report id, event id)."""
    candidate = one(engine, "SELECT * FROM promotion_candidates WHERE candidate_id = :c",
                    c=candidate_id)  # fmt: skip
    model = one(engine, "SELECT * FROM eligibility_reports WHERE report_id = :r", r=copy_report)
    head = event_rows(engine)[-1]
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    report = {
        **model,
        "report_id": f"rep_forged_{to}",
        "candidate_id": candidate_id,
        "level": to,
        "passed": 1,
        "evidence_digest": candidate["evidence_digest"],
        "reasons_json": "[]",
        "actor": "mallory",
        "created_at": stamp,
        "mac": mac,
        "mac_key_id": mac_key_id,
    }
    stored = model["history_json"]
    history = None if stored is None else sha256_json(canonical_loads(stored))
    payload = {
        "actor_source": "token",
        "bundle": None,
        "evidence_digest": candidate["evidence_digest"],
        "history": None if history is None else {"digest": history, "ledger": None},
        "level": to,
        "passed": True,
        "policy": {"digest": model["policy_digest"], "id": model["policy_id"], "members": []},
        "rules": [],
        "workspace_mode": "governed",
    }
    event = {
        "tenant_id": "default",
        "event_id": f"evt_forged_{to}",
        "seq": int(head["seq"]) + 1,
        "candidate_id": candidate_id,
        "event_type": "promoted",
        "from_status": candidate["status"],
        "to_status": to,
        "report_id": report["report_id"],
        "actor": "mallory",
        "payload_json": canonical_dumps(payload),
        "created_at": stamp,
        "prev_hash": head["hash"],
        "mac": mac,
        "mac_key_id": mac_key_id,
    }
    event["hash"] = event_hash(head["hash"], event)
    with engine.begin() as connection:
        for table, row in (("eligibility_reports", report), ("governance_events", event)):
            columns = ", ".join(row)
            values = ", ".join(f":{name}" for name in row)
            connection.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)
        connection.execute(
            sa.text(
                "UPDATE promotion_candidates SET status = :s, eligibility_report_id = :r, "
                "updated_at = :t WHERE candidate_id = :c"
            ),
            {"s": to, "r": report["report_id"], "t": stamp, "c": candidate_id},
        )
    return report["report_id"], event["event_id"]
