"""Temp tables cannot stand in for the governed tables (issue 21, finding 5).

PostgreSQL searches ``pg_temp`` before every other schema, and before revision 0009 the guard
functions named ``eligibility_reports`` and ``governance_events`` without a schema. A session could
create TEMP tables of those names, fill them with a passing report and the right event, and move a
candidate to ``candidate`` with zero rows in the real tables — or fork the event chain from a fake
head. The functions now qualify every table and pin ``search_path``. SQLite resolves a trigger's
tables in the trigger's own schema, so the same attack is replayed there as a regression guard.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from gov_attacks import Workspace, build_workspace, snapshot

from crypto_analyzer.artifacts import ArtifactStore


@pytest.fixture
def ws(backend_engine: sa.Engine, store: ArtifactStore) -> Workspace:
    return build_workspace(backend_engine, store)


def _shadow(connection: sa.Connection, table: str) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE {table} AS SELECT * FROM main.{table} WHERE 0"
        )
    else:
        connection.exec_driver_sql(f"CREATE TEMP TABLE {table} (LIKE public.{table})")


def _real(connection: sa.Connection, table: str) -> str:
    return f"{'main' if connection.dialect.name == 'sqlite' else 'public'}.{table}"


def test_shadow_tables_cannot_justify_a_promotion(ws: Workspace) -> None:
    before = snapshot(ws.engine)
    with ws.engine.connect() as connection:
        digest = connection.exec_driver_sql(
            f"SELECT evidence_digest FROM promotion_candidates WHERE candidate_id = '{ws.failed}'"
        ).scalar_one()
        for table in ("eligibility_reports", "governance_events"):
            _shadow(connection, table)
        connection.exec_driver_sql(
            "INSERT INTO eligibility_reports (tenant_id, report_id, candidate_id, level, passed, "
            "evidence_digest, policy_id, policy_digest, reasons_json, warnings_json, actor, "
            f"created_at) VALUES ('default', 'rep_shadow', '{ws.failed}', 'candidate', 1, "
            f"'{digest}', 'p', 'p', '[]', '[]', 'mallory', 't')"
        )
        connection.exec_driver_sql(
            "INSERT INTO governance_events (tenant_id, event_id, seq, candidate_id, event_type, "
            "from_status, to_status, actor, payload_json, created_at, prev_hash, hash) VALUES "
            f"('default', 'evt_shadow', 0, '{ws.failed}', 'promoted', 'exploratory', "
            "'candidate', 'mallory', '{}', 't', '', 'h')"
        )
        with pytest.raises(sa.exc.DBAPIError) as caught:
            connection.exec_driver_sql(
                f"UPDATE {_real(connection, 'promotion_candidates')} SET status = 'candidate', "
                f"eligibility_report_id = 'rep_shadow' WHERE candidate_id = '{ws.failed}'"
            )
        connection.rollback()
        connection.invalidate()  # the session (and its temp tables) ends with the attack
    assert "candidate/accepted need a linked report" in str(caught.value), caught.value
    assert snapshot(ws.engine) == before


def test_a_shadow_chain_head_cannot_fork_the_event_chain(ws: Workspace) -> None:
    before = snapshot(ws.engine)
    with ws.engine.connect() as connection:
        head = connection.exec_driver_sql("SELECT MAX(seq) FROM governance_events").scalar_one()
        _shadow(connection, "governance_events")
        connection.exec_driver_sql(
            "INSERT INTO governance_events (tenant_id, event_id, seq, candidate_id, event_type, "
            "actor, payload_json, created_at, prev_hash, hash) VALUES ('default', 'evt_fake', "
            f"{head}, NULL, 'evaluated', 'mallory', '{{}}', 't', '', 'fake-head')"
        )
        with pytest.raises(sa.exc.DBAPIError) as caught:
            connection.exec_driver_sql(
                f"INSERT INTO {_real(connection, 'governance_events')} (tenant_id, event_id, seq, "
                "candidate_id, event_type, actor, payload_json, created_at, prev_hash, hash) "
                f"VALUES ('default', 'evt_fork', {head + 1}, NULL, 'evaluated', 'mallory', '{{}}', "
                "'t', 'fake-head', 'h2')"
            )
        connection.rollback()
        connection.invalidate()  # the session (and its temp tables) ends with the attack
    assert "prev_hash must equal the hash of the chain head" in str(caught.value), caught.value
    assert snapshot(ws.engine) == before


def test_every_guard_function_pins_its_search_path(ws: Workspace) -> None:
    with ws.engine.connect() as connection:
        if ws.engine.dialect.name == "sqlite":
            # No functions; a trigger of the main schema cannot reach into temp (SQLite refuses it).
            with pytest.raises(
                sa.exc.DBAPIError, match="cannot reference objects in database temp"
            ):
                connection.exec_driver_sql(
                    "CREATE TRIGGER t_q BEFORE UPDATE ON runs BEGIN SELECT 1 FROM temp.runs; END"
                )
            return
        rows = connection.exec_driver_sql(
            "SELECT p.proname, p.proconfig, p.prosecdef, p.prosrc FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proname LIKE 'ca\\_%%' ORDER BY 1"
        ).all()
    # 0009's own guard functions qualify every table and search pg_catalog only; functions of
    # other revisions are pinned to their schema with pg_temp last. Either way no TEMP table can
    # shadow a real one.
    pinned = [name for name, config, _, _ in rows if config == ["search_path=pg_catalog, pg_temp"]]
    assert len(pinned) >= 7, pinned
    for name, config, definer, source in rows:
        assert definer is False, name
        assert config is not None and len(config) == 1, name
        assert config[0].startswith("search_path=") and config[0].endswith(", pg_temp"), name
        if config == ["search_path=pg_catalog, pg_temp"]:
            for table in ("eligibility_reports", "governance_events"):
                bare = source.replace(f'"public".{table}', "")
                assert f" {table}" not in bare, f"{name} names {table} without its schema"
