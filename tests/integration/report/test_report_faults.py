"""A report's user errors and internal faults are told apart (issue 15).

A config that does not fit the data is a ``ValidationError`` (CLI exit 2) raised where the misfit
is detected; any other exception from the computation — a ``ValueError`` included — is an internal
fault: it propagates as itself, closes the run as failed, and the CLI reports "internal error"
with exit 1, never "the report config does not fit this dataset".
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from report_workspace import SMALL, workspace
from typer.testing import CliRunner

from crypto_analyzer.cli.app import app
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.settings import Settings
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.pipeline.report import stat_stages
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report


def _runs(settings: Settings) -> list[tuple[str, str | None]]:
    engine = create_db_engine(settings.db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT status, error FROM runs")).all()
        return [(str(status), error) for status, error in rows]
    finally:
        engine.dispose()


def _boom(*args: object, **kwargs: object) -> object:
    raise ValueError("an internal invariant broke (test)")


def test_a_config_that_does_not_fit_the_data_is_a_user_error(tmp_path: Path) -> None:
    settings = workspace(tmp_path)
    config = ReportConfig.model_validate({**SMALL, "splits": {"test_size": 10**5}})
    with pytest.raises(ValidationError, match="history shorter than the split plan") as caught:
        run_report(settings, config, actor="alice")
    assert caught.value.exit_code == 2
    assert [status for status, _ in _runs(settings)] == ["failed"]


def test_a_value_error_inside_the_computation_is_a_fault_not_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = workspace(tmp_path)
    monkeypatch.setattr(stat_stages, "family_tests", _boom)
    with pytest.raises(ValueError, match="internal invariant") as caught:
        run_report(settings, ReportConfig.model_validate(SMALL), actor="alice")
    assert not isinstance(caught.value, ValidationError)
    [(status, error)] = _runs(settings)
    assert status == "failed" and error is not None and error.startswith("ValueError:")

    monkeypatch.setenv("CRYPTO_ANALYZER_ARTIFACTS", settings.artifacts)
    result = CliRunner().invoke(
        app,
        ["report", "--db", settings.db_url, "--signals", "momentum_24h,short_reversal,low_vol",
         "--horizons", "1,4", "--test-size", "240", "--min-train-size", "480",
         "--bootstrap-reps", "200", "--actor", "alice"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "internal error" in result.output and "ValueError" in result.output
    assert "does not fit this dataset" not in result.output
