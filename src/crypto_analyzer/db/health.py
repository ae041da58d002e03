"""Database health: reachable, schema at head, storage integrity, governance triggers intact.

Triggers are compared with ``db/trigger_manifest.py`` by definition digest, table and enabled
state (not only by name), so a no-op body, a disabled or moved trigger, or a replaced PostgreSQL
trigger function is a finding.

Every check is read-only so ``doctor`` can run against a production database or a read-only file.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.db.migrate import schema_status
from crypto_analyzer.db.trigger_catalog import (
    OUR_FUNCTION_PREFIX,
    OUR_TRIGGER_PREFIX,
    CatalogSnapshot,
    TriggerState,
    snapshot_catalog,
)
from crypto_analyzer.db.trigger_manifest import FUNCTIONS, TRIGGERS

__all__ = [
    "HealthCheck",
    "TriggerFinding",
    "database_health",
    "expected_triggers",
    "present_triggers",
    "trigger_findings",
]


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """One named check with its verdict and a human-readable detail."""

    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"detail": self.detail, "name": self.name, "ok": self.ok}


def expected_triggers(dialect: str) -> set[str]:
    """Names of the triggers the migrations create on ``dialect`` (from the generated manifest)."""
    return set(_manifest(dialect)[0])


def present_triggers(connection: sa.Connection) -> set[str]:
    """Trigger names that exist in the database."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    else:
        rows = connection.exec_driver_sql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    return {row[0] for row in rows}


@dataclass(frozen=True, slots=True)
class TriggerFinding:
    """A trigger or trigger function that is not what the migrations made.

    ``kind`` is one of ``missing``, ``moved``, ``altered``, ``disabled``, ``extra``,
    ``function_missing``, ``function_altered``, ``function_extra``; ``name`` is the trigger's
    (or function's) name and ``message`` a sentence naming it.
    """

    kind: str
    name: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message, "name": self.name}


_TAMPERED = "changed outside the migrations: restore it and find out who had DDL rights"


def trigger_findings(connection: sa.Connection) -> list[TriggerFinding]:
    """Compare every trigger (and PostgreSQL trigger function) with the manifest.

    Each expected trigger must exist on its table with the expected definition digest and enabled
    state; a trigger that is not in the manifest but is named like ours or sits on a governed
    table is reported too (on PostgreSQL a BEFORE trigger added after ours could rewrite the row
    our guard just checked).
    """
    expected, functions = _manifest(connection.dialect.name)
    snapshot = snapshot_catalog(connection)
    by_name: dict[str, list[TriggerState]] = {}
    for state in snapshot.triggers:
        by_name.setdefault(state.name, []).append(state)
    governed = {entry["table"] for entry in expected.values()}
    findings: list[TriggerFinding] = []
    for name, entry in sorted(expected.items()):
        findings.extend(_compare_trigger(name, entry, by_name.pop(name, [])))
    for name, states in sorted(by_name.items()):
        for state in states:
            if name.startswith(OUR_TRIGGER_PREFIX) or state.table in governed:
                findings.append(
                    TriggerFinding(
                        "extra",
                        name,
                        f"trigger {name} on {state.table} is not created by any migration; "
                        "drop it unless you know why it is there",
                    )
                )
    findings.extend(_compare_functions(expected, functions, snapshot))
    return findings


def _compare_trigger(
    name: str, entry: dict[str, str], states: list[TriggerState]
) -> list[TriggerFinding]:
    table = entry["table"]
    own = [state for state in states if state.table == table]
    others = [state for state in states if state.table != table]
    findings = [
        TriggerFinding(
            "moved", name, f"trigger {name} is on table {state.table}, expected on {table}; "
            + _TAMPERED
        )
        for state in others
    ]  # fmt: skip
    if not own:
        if not others:
            findings.append(
                TriggerFinding(
                    "missing", name, f"trigger {name} on {table} is missing; {_TAMPERED}"
                )
            )
        return findings
    state = own[0]
    if state.digest != entry["digest"]:
        findings.append(
            TriggerFinding(
                "altered",
                name,
                f"trigger {name} on {table}: definition differs from the migrations "
                f"(digest {state.digest[:12]}…, expected {entry['digest'][:12]}…); {_TAMPERED}",
            )
        )
    if state.enabled != entry["enabled"]:
        findings.append(
            TriggerFinding(
                "disabled",
                name,
                f"trigger {name} on {table} is enabled as {state.enabled!r}, expected "
                f"{entry['enabled']!r} ({_ENABLED_MEANING.get(state.enabled, 'unknown state')}); "
                + _TAMPERED,
            )
        )
    return findings


_ENABLED_MEANING = {
    "disabled": "it never fires",
    "replica": "it fires only under session_replication_role = replica",
    "origin": "SET session_replication_role = replica skips it",
    "always": "it fires in every session",
}


def _compare_functions(
    triggers: dict[str, dict[str, str]],
    expected: dict[str, dict[str, str]],
    snapshot: CatalogSnapshot,
) -> list[TriggerFinding]:
    present = {state.name: state.digest for state in snapshot.functions}
    findings = []
    for name, entry in sorted(expected.items()):
        users = sorted(t for t, e in triggers.items() if e.get("function") == name)
        used = f" (used by {', '.join(users)})" if users else ""
        if name not in present:
            message = f"function {name}(){used} is missing; {_TAMPERED}"
            findings.append(TriggerFinding("function_missing", name, message))
        elif present[name] != entry["digest"]:
            message = (
                f"function {name}(){used}: body, settings or security mode differ from the "
                f"migrations; {_TAMPERED}"
            )
            findings.append(TriggerFinding("function_altered", name, message))
    for name in sorted(set(present) - set(expected)):
        if name.startswith(OUR_FUNCTION_PREFIX) or "." in name:
            message = f"function {name} is used by a trigger or named like ours, but no migration "
            message += "creates it"
            findings.append(TriggerFinding("function_extra", name, message))
    return findings


def _manifest(dialect: str) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    if dialect not in TRIGGERS:
        raise NotImplementedError(f"the trigger manifest has no entries for {dialect!r}")
    return TRIGGERS[dialect], FUNCTIONS.get(dialect, {})


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
        if status.at_head:
            checks.append(_trigger_check(connection))
        elif status.current is not None:
            detail = "not compared: the schema is not at head; run `crypto-analyzer db upgrade`"
            checks.append(HealthCheck("governance triggers", False, detail))
    return checks


def _trigger_check(connection: sa.Connection) -> HealthCheck:
    findings = trigger_findings(connection)
    if findings:
        return HealthCheck("governance triggers", False, "; ".join(f.message for f in findings))
    count = len(expected_triggers(connection.dialect.name))
    return HealthCheck("governance triggers", True, f"all {count} match the migrations")


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
