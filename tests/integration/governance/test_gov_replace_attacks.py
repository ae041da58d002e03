"""The four conflict-resolution attacks of the adversarial review (issue 21, finding 1), replayed.

Each was reproduced against revision 0002 on SQLite: a ``REPLACE`` deleted the old row without
firing a DELETE trigger and the INSERT guard saw an innocent new row. Each test replays the attack
(on SQLite with ``REPLACE`` / ``INSERT OR REPLACE``; on PostgreSQL with its only conflict form,
``INSERT … ON CONFLICT DO UPDATE``), asserts that the database refuses it and nothing changed, and
then that the normal service or CLI does not accept what the attacker wanted.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from gov_attacks import Workspace, build_workspace, refused
from gov_factories import strong_bundle
from gov_workspace import make_service
from typer.testing import CliRunner

from crypto_analyzer.artifacts import ArtifactStore
from crypto_analyzer.cli.audit import app as audit_app
from crypto_analyzer.cli.promotion import app as promotion_app
from crypto_analyzer.core.settings import reset_settings_cache
from crypto_analyzer.governance import PromotionDenied, verify_workspace

runner = CliRunner()


@pytest.fixture
def ws(
    backend_engine: sa.Engine, store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> Workspace:
    monkeypatch.setenv("CRYPTO_ANALYZER_ARTIFACTS", store.url)
    reset_settings_cache()
    return build_workspace(backend_engine, store)


def _rewrite(ws: Workspace, table: str, where: str, changes: dict[str, str]) -> str:
    """The attacker's statement: the row copied with ``changes``, replacing the original."""
    columns = [column["name"] for column in sa.inspect(ws.engine).get_columns(table)]
    names = ", ".join(columns)
    values = ", ".join(changes.get(column, column) for column in columns)
    if ws.engine.dialect.name == "sqlite":
        return (
            f"INSERT OR REPLACE INTO {table} ({names}) SELECT {values} FROM {table} WHERE {where}"
        )
    key = ", ".join(sa.inspect(ws.engine).get_pk_constraint(table)["constrained_columns"])
    updates = ", ".join(f"{column} = excluded.{column}" for column in changes)
    return (
        f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} WHERE {where} "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


def _refusal(ws: Workspace, table: str, postgres: str) -> str:
    if ws.engine.dialect.name == "sqlite":
        return f"{table}: a row with this key already exists"
    return postgres


def _status(ws: Workspace, candidate: str) -> str:
    return make_service(ws.engine, ws.store).get(candidate).status


def _verified(url: str) -> None:
    result = runner.invoke(audit_app, ["verify", "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] is True


def test_a_failed_report_rewritten_as_passed_is_refused_and_the_service_still_denies(
    ws: Workspace,
) -> None:
    statement = _rewrite(
        ws, "eligibility_reports", f"report_id = '{ws.failed_report}'", {"passed": "1"}
    )
    refused(ws.engine, statement, _refusal(ws, "eligibility_reports", "is append-only: UPDATE"))
    service = make_service(ws.engine, ws.store)
    assert [report.passed for report in service.reports(ws.failed)] == [False]
    with pytest.raises(PromotionDenied, match=r"effect\.mean_ic"):
        service.promote(ws.failed, target="candidate", actor="alice")
    assert _status(ws, ws.failed) == "exploratory"


def test_an_accepted_candidate_cannot_be_silently_demoted_and_stays_accepted(
    ws: Workspace, backend_url: str
) -> None:
    statement = _rewrite(
        ws,
        "promotion_candidates",
        f"candidate_id = '{ws.accepted}'",
        {"status": "'exploratory'", "eligibility_report_id": "NULL", "status_reason": "NULL"},
    )
    refused(
        ws.engine,
        statement,
        _refusal(ws, "promotion_candidates", "an accepted row changes only to revoked"),
    )
    shown = runner.invoke(promotion_app, ["show", ws.accepted, "--db", backend_url, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["candidate"]["status"] == "accepted"
    _verified(backend_url)


def test_a_rejected_candidate_cannot_be_resurrected_and_the_cli_refuses_to_promote_it(
    ws: Workspace, backend_url: str
) -> None:
    with ws.engine.connect() as connection:
        other_digest = connection.exec_driver_sql(
            f"SELECT evidence_digest FROM promotion_candidates WHERE candidate_id = '{ws.accepted}'"
        ).scalar_one()
    statement = _rewrite(
        ws,
        "promotion_candidates",
        f"candidate_id = '{ws.rejected}'",
        {
            "status": "'exploratory'",
            "status_reason": "NULL",
            "evidence_digest": f"'{other_digest}'",
        },
    )
    refused(
        ws.engine,
        statement,
        _refusal(ws, "promotion_candidates", "identity columns are immutable"),
    )
    assert _status(ws, ws.rejected) == "rejected"
    for target in ("candidate", "accepted"):  # as the OS principal (no principal registered)
        result = runner.invoke(
            promotion_app, ["evaluate", ws.rejected, "--to", target, "--db", backend_url]
        )
        assert result.exit_code == 1, result.output
        assert "rejected" in result.output
    assert _status(ws, ws.rejected) == "rejected"
    _verified(backend_url)


def test_lineage_cannot_be_repointed_to_a_doctored_bundle_and_noise_is_still_denied(
    ws: Workspace,
) -> None:
    weak = ws.weak.bundle
    doctored = strong_bundle(
        run_instance_id=weak.run_instance_id,
        signal=weak.signal,
        run_key=weak.run_key,
        dataset_id=weak.dataset_id,
        config_digest=weak.config_digest,
        uri_prefix=ws.store.url,
    )
    ref = ws.store.put(f"runs/{weak.run_instance_id}/bundle/doctored.json", doctored.to_bytes())
    statement = _rewrite(
        ws,
        "artifact_lineage",
        f"run_instance_id = '{weak.run_instance_id}' AND logical_name = 'bundle/momentum.json'",
        {"artifact_sha256": f"'{ref.sha256}'", "uri": f"'{ref.uri}'", "size_bytes": str(ref.size)},
    )
    refused(ws.engine, statement, _refusal(ws, "artifact_lineage", "is append-only: UPDATE"))
    # The weak run's horizon-4 evidence is noise (mean IC 0.001); the doctored bundle said 0.045.
    service = make_service(ws.engine, ws.store)
    with pytest.raises(PromotionDenied, match=r"effect\.mean_ic"):
        service.promote(ws.failed, target="candidate", actor="alice")
    assert _status(ws, ws.failed) == "exploratory"
    assert verify_workspace(ws.engine, ws.store, "default").ok
