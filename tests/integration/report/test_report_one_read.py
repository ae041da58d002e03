"""One read of the bars per report: the STRICT dataset id and the panel come from the same
columnar pass, the id is byte-identical to one computed on its own, an id computed earlier in the
process is reused (and checked), and the factor run is stored as a file in the run's store."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from report_workspace import SMALL, workspace

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.identities import DatasetMode
from crypto_analyzer.db import arrow_reader, dataset_id, loaders
from crypto_analyzer.db.dataset_id import compute_dataset_id
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.factor_runs import find_factor_run
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report
from crypto_analyzer.pipeline.workspace import check_dataset


@pytest.fixture
def bars_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Columnar (Arrow worker) reads of the bars table; the real worker still runs.

    The workspace is small, so the size above which the Arrow worker is used is lowered: every
    read of the bars is then a columnar read and can be counted.
    """
    monkeypatch.setattr(dataset_id, "COLUMNAR_MIN_ROWS", 1_000)
    monkeypatch.setattr(loaders, "ARROW_MIN_ROWS", 1_000)
    started: list[str] = []
    real = arrow_reader._in_worker

    def counting(function_name: str, *args: Any) -> Any:
        if "bars" in re.findall(r"\bFROM\s+\"?(\w+)", str(args[1])):
            started.append(function_name)
        return real(function_name, *args)

    monkeypatch.setattr(arrow_reader, "_in_worker", counting)
    return started


def test_a_report_reads_the_bars_once(tmp_path: Path, bars_reads: list[str]) -> None:
    settings = workspace(tmp_path / "w")
    engine = create_db_engine(settings.db_url)
    alone = compute_dataset_id(engine, tenant_id="default")
    bars_reads.clear()

    config = {**SMALL, "signals": [*SMALL["signals"], "clean_momentum"]}  # uses a factor fit
    result = run_report(settings, ReportConfig.model_validate(config), actor="alice")

    assert len(bars_reads) == 1, bars_reads  # the id and the panel: one columnar pass
    assert result.dataset == alone  # byte-identical id, same per-table digests and watermark
    (run_id,) = result.summary["factor_run_ids"]
    run = find_factor_run(engine, tenant_id="default", factor_run_id=run_id)
    assert run is not None and run.kind == "artifact"  # the report's store holds the fit
    engine.dispose()


def test_an_id_computed_earlier_is_reused_and_checked(
    tmp_path: Path, bars_reads: list[str]
) -> None:
    settings = workspace(tmp_path / "w")
    config = ReportConfig.model_validate(SMALL)
    earlier = check_dataset(settings)
    bars_reads.clear()
    result = run_report(settings, config, actor="alice", dataset=earlier)
    assert result.dataset == earlier
    assert bars_reads == ["_read_in_worker"]  # only the bars; no second hash of the table

    fast = check_dataset(settings, mode=DatasetMode.FAST_DEV)
    with pytest.raises(ValidationError, match="not strict"):
        run_report(settings, config, actor="alice", dataset=fast)
    other = check_dataset(settings.model_copy(update={"tenant": "desk-b"}))
    with pytest.raises(ValidationError, match="tenant 'desk-b'"):
        run_report(settings, config, actor="alice", dataset=other)
