"""Calendars and gaps: rows are trading bars, the gap rule is explicit, annualisation follows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.research import (
    CalendarSpec,
    calendar_panel,
    compute_signal,
    forward_returns,
    panel_from_bars,
    read_calendar_file,
)

DAY = 86_400_000


def _bars(days: pd.DatetimeIndex, assets: tuple[str, ...] = ("a", "b"), skip=None) -> pd.DataFrame:
    ms = days.as_unit("ms").asi8
    rows = []
    for k, asset in enumerate(assets):
        close = 100.0 * np.exp(0.01 * np.arange(ms.size) * (k + 1))
        frame = pd.DataFrame(
            {
                "instrument_id": asset,
                "bar_open_ms": ms,
                "open": close,
                "high": close,
                "low": close,
                "close": close,
                "volume": 1.0,
            }
        )
        if skip and asset in skip:
            frame = frame.drop(index=skip[asset])
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


WEEKDAYS = pd.bdate_range("2024-01-01", periods=60, tz="UTC")


def test_weekdays_rows_are_sessions_and_signals_stay_finite() -> None:
    bars = _bars(WEEKDAYS.delete(10))  # a market holiday: no bar for anyone
    panel, report = calendar_panel(bars, CalendarSpec())  # auto
    assert report.calendar == "weekdays" and panel.calendar == "weekdays"
    assert panel.shape[0] == 59 and report.holiday_rows == 1
    assert np.isfinite(panel.log_returns.to_numpy()[1:]).all()  # Friday → Monday is one bar
    fwd = forward_returns(panel, horizons=(1,))[1]
    assert np.isfinite(fwd.to_numpy()[:-1]).all()
    assert np.allclose(fwd["b"].to_numpy()[9:11], [0.02, 0.02])  # one session across it
    momentum = compute_signal("momentum_24h", panel, winsor_quantile=None)
    assert momentum.iloc[24:].notna().all().all()
    regular = panel_from_bars(bars)  # the 24/7 grid: weekends are empty rows
    assert compute_signal("momentum_24h", regular, winsor_quantile=None).isna().all().all()
    span_days = (WEEKDAYS[-1] - WEEKDAYS[0]).days + 1  # first bar open to last bar close
    assert report.bars_per_year == pytest.approx(59 * 365.25 / span_days)


def test_247_calendar_is_the_regular_grid_unchanged() -> None:
    days = pd.date_range("2024-01-01", periods=30, freq="D", tz="UTC")
    bars = _bars(days, skip={"a": [5]})
    panel, report = calendar_panel(bars, CalendarSpec())
    regular = panel_from_bars(bars)
    assert report.calendar == "24/7" and panel.bars_per_year is None
    pd.testing.assert_frame_equal(panel.log_returns, regular.log_returns)
    assert panel.periods_per_year == 365.25
    assert report.n_long_gaps == 0 and report.trivial


def test_gap_rules_drop_carry_and_long_gaps() -> None:
    bars = _bars(WEEKDAYS, skip={"a": [20, 40, 41, 42, 43, 44]})
    dropped, report = calendar_panel(bars, CalendarSpec(kind="weekdays", max_gap=3))
    a = dropped.log_returns["a"].to_numpy()
    assert np.isnan(a[20]) and np.isnan(a[21])  # no return across the missing bar
    assert report.long_gaps == (("a", int(WEEKDAYS[40].value // 10**6), 5),)
    carried, report = calendar_panel(bars, CalendarSpec(kind="weekdays", gap_rule="carry"))
    a = carried.log_returns["a"].to_numpy()
    assert a[20] == 0.0 and a[21] == pytest.approx(0.02)  # the whole move, after the gap
    assert np.isnan(a[45])  # the 5-bar gap is longer than max_gap: never bridged
    assert (report.carried_gaps, report.carried_bars, report.n_long_gaps) == (1, 1, 1)
    assert "gaps longer than 3 bar(s) are never bridged" in report.notes()[1]
    assert "1 gap(s) longer than 3 bars: a 5 bars from 2024-02-26" in report.notes()[2]


def test_file_calendar_and_off_calendar_bars(tmp_path: Path) -> None:
    days = pd.date_range("2024-01-01", periods=21, freq="D", tz="UTC")
    path = tmp_path / "sessions.txt"
    listed = days[::2]
    path.write_text("# trading days\n" + "\n".join(listed.strftime("%Y-%m-%d")) + "\n")
    sessions = read_calendar_file(path)
    spec = CalendarSpec(kind="file", sessions=sessions, source=path.name, bars_per_year=250.0)
    panel, report = calendar_panel(_bars(days), spec)
    assert panel.shape[0] == 11 and report.off_calendar_bars == 20  # 10 days x 2 assets
    assert report.calendar == "file:sessions.txt" and panel.periods_per_year == 250.0
    with pytest.raises(ValueError, match="a file calendar needs at least one trading day"):
        CalendarSpec(kind="file")


def test_new_config_leaves_stay_out_of_the_run_key_at_their_defaults() -> None:
    default = ReportConfig()
    assert "calendar" not in default.resolved() and "factors" not in default.resolved()
    chosen = ReportConfig.model_validate({"calendar": {"kind": "weekdays"}, "factors": []})
    assert chosen.resolved()["calendar"]["kind"] == "weekdays"
    assert chosen.resolved()["factors"] == []
    with pytest.raises(ValueError, match=r"calendar\.file is required with kind = 'file'"):
        ReportConfig.model_validate({"calendar": {"kind": "file"}})
