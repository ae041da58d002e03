"""A governed workspace to attack, and the tools to check that an attack changed nothing.

Built through the governance service like a real one: an accepted candidate (``run-strong``), a
rejected one (``run-other``, signal ``carry``), an exploratory one whose evaluation failed
(``run-weak``), their reports, events and lineage, plus two signing keys inserted directly (no
service writes them yet).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from gov_workspace import SeededRun, make_service, seed_run

from crypto_analyzer.artifacts import ArtifactStore

__all__ = [
    "GOVERNED_TABLES",
    "KEY_1",
    "KEY_2",
    "MALLORY_PUBLIC",
    "PUBLIC_1",
    "PUBLIC_2",
    "Workspace",
    "build_workspace",
    "refused",
    "snapshot",
    "table_rows",
]

# Signing key rows must hold real material (revision 0012): a 64-hex public key under its SHA-256.
PUBLIC_1 = hashlib.sha256(b"test signing key 1").hexdigest()
PUBLIC_2 = hashlib.sha256(b"test signing key 2").hexdigest()
MALLORY_PUBLIC = hashlib.sha256(b"mallory").hexdigest()
KEY_1 = hashlib.sha256(bytes.fromhex(PUBLIC_1)).hexdigest()
KEY_2 = hashlib.sha256(bytes.fromhex(PUBLIC_2)).hexdigest()

GOVERNED_TABLES = (
    "governance_events",
    "eligibility_reports",
    "artifact_lineage",
    "artifact_edges",
    "promotion_candidates",
    "signing_keys",
)


@dataclass(frozen=True)
class Workspace:
    engine: sa.Engine
    store: ArtifactStore
    strong: SeededRun
    weak: SeededRun
    accepted: str
    rejected: str
    failed: str
    failed_report: str


def build_workspace(engine: sa.Engine, store: ArtifactStore) -> Workspace:
    strong = seed_run(engine, store, run_instance_id="run-strong")
    other = seed_run(engine, store, run_instance_id="run-other", signal="carry")
    weak = seed_run(
        engine, store, run_instance_id="run-weak", changes={"horizons.1.ic.mean_ic": 0.001}
    )
    service = make_service(engine, store)
    accepted = service.create(
        run_instance_id=strong.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    service.promote(accepted, target="candidate", actor="alice")
    service.promote(accepted, target="accepted", actor="bob")
    rejected = service.create(
        run_instance_id=other.run_instance_id, signal="carry", horizon=4, actor="alice"
    ).candidate_id
    service.reject(rejected, reason="no economic story", actor="rita")
    failed = service.create(
        run_instance_id=weak.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    evaluation = service.evaluate(failed, target="candidate", actor="alice")
    assert not evaluation.passed
    with engine.begin() as connection:
        for key, public in ((KEY_1, PUBLIC_1), (KEY_2, PUBLIC_2)):
            connection.exec_driver_sql(
                "INSERT INTO signing_keys (key_id, algorithm, public_key, owner, valid_from, "
                f"valid_until, created_at) VALUES ('{key}', 'ed25519', '{public}', 'alice', "
                "'2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2025-01-01T00:00:00Z')"
            )
    return Workspace(
        engine=engine,
        store=store,
        strong=strong,
        weak=weak,
        accepted=accepted,
        rejected=rejected,
        failed=failed,
        failed_report=evaluation.report.report_id,
    )


def table_rows(engine: sa.Engine, table: str) -> list[tuple[Any, ...]]:
    """Every row of ``table`` (with its rowid on SQLite), in a stable order."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            sql = f"SELECT rowid, * FROM {table} ORDER BY rowid"
        else:
            sql = f"SELECT * FROM {table} ORDER BY 1, 2, 3"
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    return {table: table_rows(engine, table) for table in GOVERNED_TABLES}


def refused(engine: sa.Engine, statements: str | list[str], fragment: str) -> str:
    """Run ``statements`` in one transaction; it must fail with ``fragment`` and change nothing."""
    before = snapshot(engine)
    batch = [statements] if isinstance(statements, str) else statements
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as connection:
        for statement in batch:
            connection.exec_driver_sql(statement)
    message = str(caught.value.orig)
    assert fragment in message, message
    assert snapshot(engine) == before
    return message
