"""A committed acceptance that lives only in SQLite's WAL is lost with it — unless checkpointed.

SQLite in WAL mode keeps committed transactions in ``<db>-wal`` until a checkpoint copies them
into the database file. Whoever can touch the files can delete (or corrupt the last frame of) the
WAL while a writer still has it open, and the committed acceptance is silently gone: every row
that remains is intact and well chained. A child process accepts a candidate with automatic
checkpoints off and is killed before it closes the database; then the WAL is deleted or corrupted.

* Without the service's post-commit ``wal_checkpoint(TRUNCATE)`` the acceptance is lost, and
  ``audit verify`` names the signed store checkpoint that recorded it.
* With it (what the service does) the acceptance is in the database file before the call returns,
  the WAL is empty, and nothing can be lost.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from gov_workspace import make_service, seed_run

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.governance import verify_workspace

CHILD = """
import sys, time
import sqlalchemy as sa
from crypto_analyzer.artifacts import open_store
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.governance import GovernanceService, checkpoints
from crypto_analyzer.governance.policy import load_policy_set

url, store_url, candidate, mode = sys.argv[1:5]
engine = create_db_engine(url)


@sa.event.listens_for(engine, "connect")
def _no_automatic_checkpoints(dbapi_connection, _record):
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


if mode == "without":  # a writer that never checkpoints (or dies between commit and checkpoint)
    checkpoints.checkpoint_wal = lambda engine: None
service = GovernanceService(
    engine, open_store(store_url), tenant_id="default", policy=load_policy_set()
)
outcome = service.promote(candidate, target="accepted", actor="bob")
print(outcome.candidate.status, flush=True)
time.sleep(600)  # keeps the database open: SQLite would checkpoint on the last close
"""


def _corrupt_last_frame(wal: Path) -> None:
    data = bytearray(wal.read_bytes())
    page_size = struct.unpack(">I", data[8:12])[0]
    frame = 24 + page_size
    frames = (len(data) - 32) // frame
    assert frames >= 1
    last = 32 + (frames - 1) * frame
    for offset in range(last + 24 + 16, last + 24 + 48):  # page bytes of the commit frame
        data[offset] ^= 0xFF
    wal.write_bytes(bytes(data))


def _status(url: str, candidate: str) -> str:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT status FROM promotion_candidates WHERE candidate_id = :c"),
                {"c": candidate},
            ).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.parametrize("damage", ["delete", "corrupt-last-frame"])
@pytest.mark.parametrize("mode", ["without", "with"])
def test_a_dropped_wal_loses_nothing_after_the_service_checkpoint_and_is_found_otherwise(
    sqlite_engine: sa.Engine, sqlite_url: str, store: ArtifactStore, mode: str, damage: str
) -> None:
    run = seed_run(sqlite_engine, store)
    service = make_service(sqlite_engine, store)
    candidate = service.create(
        run_instance_id=run.run_instance_id, signal="momentum", horizon=4, actor="alice"
    ).candidate_id
    service.promote(candidate, target="candidate", actor="alice")
    sqlite_engine.dispose()  # no connection of ours keeps the WAL open
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    wal, shm = (database.with_name(database.name + suffix) for suffix in ("-wal", "-shm"))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, sqlite_url, store.url, candidate, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        line = child.stdout.readline().strip() if child.stdout else ""
        assert line == "accepted", child.stderr.read() if child.stderr else line
        pending = wal.stat().st_size if wal.exists() else 0
        if mode == "with":
            assert pending == 0  # TRUNCATE: the acceptance is in the database file already
        else:
            assert pending > 0  # committed, but only in the WAL
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
    if damage == "delete":
        wal.unlink(missing_ok=True)
    elif pending:
        _corrupt_last_frame(wal)
    shm.unlink(missing_ok=True)

    status = _status(sqlite_url, candidate)
    engine = create_db_engine(sqlite_url)
    try:
        report = verify_workspace(engine, store, "default")
    finally:
        engine.dispose()
    if mode == "with":
        assert status == "accepted"
        assert report.ok, report.findings
        return
    assert status == "candidate"  # the committed acceptance is gone, and nothing else says so…
    assert {finding.check for finding in report.findings} == {"checkpoint"}, report.findings
    messages = [finding.message for finding in report.findings]
    assert any(
        message.startswith("checkpoint checkpoints/default/")
        and "records event seq 2" in message
        and "no event at seq 2" in message
        for message in messages
    ), messages  # …except the checkpoint the service signed into the store
