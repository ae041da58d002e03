"""Real-market calendars end to end: a weekdays-only daily panel with holidays, imported as files.

The panel is generated like exchange data: Monday–Friday sessions, market-wide holidays (no bar
for anyone), a few instrument-specific missing days, 22 instruments and no BTC/ETH. It goes in
through ``ingest import DIR --symbol-from filename`` and out through the default report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.settings import load_settings, reset_settings_cache
from crypto_analyzer.ingest.importer import ImportOptions
from crypto_analyzer.ingest.service import run_import_many
from crypto_analyzer.pipeline.report.compute import compute_report
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.run import run_report
from crypto_analyzer.pipeline.workspace import init_workspace

N_ASSETS = 22
SESSIONS = pd.bdate_range("2020-01-01", "2023-12-31", tz="UTC")
HOLIDAYS = {f"{year}-{day}" for year in range(2020, 2024) for day in ("01-01", "07-03", "12-25")}
PRICE_SIGNALS = ("volume_surprise", "momentum_24h", "short_reversal", "low_vol")
DAILY = {
    "freq": "1D",
    "splits": {"test_size": 120, "min_train_size": 480},
    "procedures": {"bootstrap_reps": 200, "pbo_blocks": 8},
}


def weekday_bars(n_assets: int = N_ASSETS, seed: int = 11) -> pd.DataFrame:
    """Long OHLCV frame on weekday sessions without holidays; some own missing days per asset."""
    rng = np.random.default_rng(seed)
    days = SESSIONS[~SESSIONS.strftime("%Y-%m-%d").isin(HOLIDAYS)]
    ms = days.as_unit("ms").asi8
    frames = []
    market = rng.normal(0.0003, 0.01, ms.size)
    for asset in range(n_assets):
        returns = market * rng.uniform(0.5, 1.5) + rng.normal(0.0, 0.015, ms.size)
        close = 50.0 * np.exp(np.cumsum(returns))
        keep = rng.random(ms.size) > 0.01  # ~1% of days this instrument did not trade
        keep[:5] = True
        frames.append(
            pd.DataFrame(
                {
                    "symbol": f"EQ{asset:02d}",
                    "timestamp": pd.to_datetime(ms, unit="ms").strftime("%Y-%m-%d"),
                    "open": close,
                    "high": close * 1.01,
                    "low": close * 0.99,
                    "close": close,
                    "volume": rng.lognormal(12.0, 0.3, ms.size),
                }
            ).loc[keep]
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTO_ANALYZER_FIXED_TIME", "2025-02-01T00:00:00Z")
    reset_settings_cache()


def _workspace(directory: Path):
    settings = load_settings(
        db_url=f"sqlite:///{directory / 'w.sqlite'}", artifacts=f"file://{directory / 'a'}"
    )
    init_workspace(settings)
    folder = directory / "prices"
    folder.mkdir()
    for symbol, frame in weekday_bars().groupby("symbol"):
        frame.drop(columns=["symbol"]).to_csv(folder / f"{symbol}.csv", index=False)
    result = run_import_many(
        settings, folder, venue="nyse", freq="1D", symbol_from="filename",
        options=ImportOptions(),
    )  # fmt: skip
    assert len(result.results) == N_ASSETS and not result.refused
    return settings


def test_weekday_panel_runs_the_default_report_with_finite_ic(tmp_path: Path, pinned: None) -> None:
    settings = _workspace(tmp_path)
    config = ReportConfig.model_validate(DAILY)
    assert config.signals[:2] == ("volume_surprise", "clean_momentum")  # the default list
    result = run_report(settings, config, actor="alice")
    hypotheses = result.summary["hypotheses"]
    tested = {h["signal"] for h in hypotheses}
    assert tested == set(PRICE_SIGNALS)  # clean_momentum needs BTC/ETH: skipped with a note
    for row in hypotheses:
        assert row["mean_ic"] is not None and np.isfinite(row["mean_ic"]), row
        assert row["n_obs"] > 100, row
    notes = result.summary["data_notes"]
    assert notes[0].startswith("calendar weekdays: ")
    per_year = float(notes[0].split(": ")[1].split(" ")[0])  # measured: sessions per year
    assert 255 < per_year < 261  # 261 weekdays minus the holidays (24/7 daily would be 365.25)
    assert "gap rule: no return is computed across a missing bar (drop)" in notes[1 + 1]
    assert any(
        "clean_momentum skipped: the universe lacks factor instrument(s) BTC, ETH" in note
        and "`factors = ['BTC', 'ETH']`" in note
        for note in notes
    )
    markdown = Path(result.markdown_uri.removeprefix("file://")).read_text()
    assert "## Data" in markdown and "calendar weekdays" in markdown
    # The resolved calendar changes the results, not the configured leaves: at their defaults
    # the new leaves stay out of the run key.
    assert "calendar" not in config.resolved() and "factors" not in config.resolved()


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    long = weekday_bars()
    bars = pd.DataFrame(
        {
            "instrument_id": "nyse:" + long["symbol"] + "/USD",
            "bar_open_ms": pd.to_datetime(long["timestamp"], utc=True)
            .astype("datetime64[ms, UTC]")
            .astype("int64"),
            **{name: long[name] for name in ("open", "high", "low", "close", "volume")},
        }
    )
    instruments = pd.DataFrame({"instrument_id": sorted(set(bars["instrument_id"]))}).assign(
        base=lambda f: f["instrument_id"].str.slice(5, 9)
    )
    return bars, instruments


def _compute(config: dict, bars: pd.DataFrame | None = None):
    frames = _frames()
    return compute_report(
        frames[0] if bars is None else bars,
        frames[1],
        ReportConfig.model_validate({**DAILY, **config}),
        run_key="k" * 64,
        dataset_id="d" * 64,
    )


def test_factors_are_configuration() -> None:
    empty = _compute({"signals": ["clean_momentum", "low_vol"], "factors": []})
    assert empty.signals == ("low_vol",)
    assert any("no factor instruments are configured" in note for note in empty.notes)
    chosen = {"signals": ["clean_momentum", "low_vol"], "factors": ["EQ00", "nyse:EQ01/USD"]}
    with pytest.raises(ValidationError, match=r"set calendar\.gap_rule = 'carry'"):
        _compute(chosen)  # the factors' own missing days break every complete fit window
    named = _compute({**chosen, "calendar": {"gap_rule": "carry"}})
    assert named.signals == ("clean_momentum", "low_vol")
    per_year = named.hypotheses[("low_vol", 1)].execution["bars_per_year"]
    assert 255 < per_year < 261  # annualised on the calendar's sessions, not 365.25 days
    assert any("gap rule: the last close is carried over gaps of up to 3" in n for n in named.notes)
    assert np.isfinite(named.hypotheses[("clean_momentum", 1)].ic["mean"])
    with pytest.raises(ValidationError) as refused:
        _compute({"signals": ["clean_momentum"]})
    assert "clean_momentum cannot run: the universe lacks factor instrument(s) BTC, ETH" in str(
        refused.value
    )
    assert "`factors = ['BTC', 'ETH']`" in str(refused.value)


def test_too_few_assets_for_k_quantiles() -> None:
    bars, _ = _frames()
    few = bars[bars["instrument_id"].isin([f"nyse:EQ{i:02d}/USD" for i in range(7)])]
    with pytest.raises(ValidationError) as refused:
        _compute({"signals": ["low_vol"], "min_assets": 5}, few)
    assert str(refused.value) == (
        "too few assets for k quantiles: 7 in the universe, portfolio.k = 5 names per side "
        "needs at least 10 (set portfolio.k to at most 3 or ingest more instruments)"
    )


def test_signal_all_nan_says_why() -> None:
    with pytest.raises(ValidationError) as refused:
        _compute({"signals": ["momentum_24h"], "calendar": {"kind": "24/7"}})
    text = str(refused.value)
    assert text.startswith("signal momentum_24h is all-NaN on this data (")
    assert "of bar returns are missing (gaps or empty calendar slots, calendar 24/7)" in text
    assert "set calendar.kind = 'weekdays'" in text


def test_history_shorter_than_the_split_plan() -> None:
    with pytest.raises(ValidationError) as refused:
        _compute({"signals": ["low_vol"], "splits": {"test_size": 720, "min_train_size": 2160}})
    assert str(refused.value).startswith(
        "history shorter than the split plan: 1,037 bars of 1D, the plan needs at least 2,904 "
        "(min_train_size 2160 + purge 24 + test_size 720)"
    )
    assert "--min-train-size/--test-size" in str(refused.value)
