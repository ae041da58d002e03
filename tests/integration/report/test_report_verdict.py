"""The report's verdict is the decision `promotion evaluate` makes; computing it writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from report_workspace import SMALL, SMALL_TOML, workspace
from typer.testing import CliRunner

from crypto_analyzer.artifacts import open_store
from crypto_analyzer.cli.app import app
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.governance import open_service
from crypto_analyzer.governance import policy as policy_module
from crypto_analyzer.governance.policy import load_policy_set
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report

DEFAULT_POLICY = Path(policy_module.__file__).with_name("default_policy.toml")
GOVERNANCE_TABLES = ("promotion_candidates", "eligibility_reports", "governance_events")


def _rows(db_url: str) -> dict[str, int]:
    engine = create_db_engine(db_url, read_only=True)
    with engine.connect() as connection:
        counts = {
            table: connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in GOVERNANCE_TABLES
        }
    engine.dispose()
    return counts


def _policy_file(tmp_path: Path) -> Path:
    """The packaged policy under another id with a looser IC threshold: another digest."""
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    text = text.replace('policy_id = "crypto_analyzer.default"', 'policy_id = "team.lenient"')
    text = text.replace("min_mean_ic = 0.02", "min_mean_ic = 0.001", 1)
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_verdict_equals_promotion_evaluate_and_has_no_side_effects(tmp_path: Path) -> None:
    settings = workspace(tmp_path)
    policy = _policy_file(tmp_path)
    result = run_report(
        settings, ReportConfig.model_validate(SMALL), actor="alice", policy_path=policy
    )
    store = open_store(settings.artifacts)
    verdict = json.loads(store.get(f"runs/{result.run_instance_id}/verdict.json"))

    # side-effect free: no candidate, report, event or policy document was written
    assert _rows(settings.db_url) == dict.fromkeys(GOVERNANCE_TABLES, 0)
    assert not [key for key in store.list() if key.startswith("policies/")]

    rows = {row["hypothesis"]: row for row in verdict["hypotheses"]}
    assert len(rows) == 6 and verdict["tested"]["family_size"] == 6
    assert verdict["tested"]["trials_in_scope"] == 6
    assert verdict["level"] == "candidate"
    assert (
        verdict["policy"]["digest"]
        == load_policy_set(policy).digest()
        != (load_policy_set().digest())
    )
    assert verdict["policy"]["id"] == "team.lenient" and str(policy) in verdict["policy"]["source"]
    with open_service(settings, read_only=False, policy_path=policy) as service:
        for row in rows.values():
            candidate = service.create(
                run_instance_id=result.run_instance_id,
                signal=row["signal"],
                horizon=row["horizon"],
                actor="alice",
            )
            outcome = service.evaluate(candidate.candidate_id, target="candidate", actor="alice")
            decision = outcome.decision
            assert decision.allowed is row["allowed"], row["hypothesis"]
            assert [reason.to_dict() for reason in decision.reasons] == row["reasons"]
            assert [warning.to_dict() for warning in decision.warnings] == row["warnings"]
            assert sorted({reason.rule for reason in decision.reasons}) == row["failed_rules"]
            assert [r["rule"] for r in row["rules"] if r["outcome"] == "deny"]
            assert outcome.report.policy_digest == verdict["policy"]["digest"]
    # every rule the decision looked at is in the verdict, with readings for the threshold rules
    effect = [r for r in next(iter(rows.values()))["rules"] if r["rule"] == "effect.mean_ic"]
    assert effect and effect[0]["comparison"] == ">=" and effect[0]["threshold"] == 0.001
    assert isinstance(effect[0]["value"], float)
    hac = [r for r in next(iter(rows.values()))["rules"] if r["rule"] == "effect.hac_t"]
    assert hac and "over-rejects on autocorrelated data" in hac[0]["caveat"]


def test_report_with_a_bad_policy_file_stops_before_the_run(tmp_path: Path) -> None:
    settings = workspace(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text('policy_id = "x"\n', encoding="utf-8")
    config = tmp_path / "report.toml"
    config.write_text(SMALL_TOML, encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["--db", settings.db_url, "report", "--config", str(config), "--policy", str(bad)],
        env={"CRYPTO_ANALYZER_ARTIFACTS": settings.artifacts},
    )
    assert result.exit_code == 2, result.output
    assert "bad.toml" in result.output or "policy" in result.output.lower()
    engine = create_db_engine(settings.db_url, read_only=True)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT COUNT(*) FROM runs")).scalar_one() == 0
    engine.dispose()
