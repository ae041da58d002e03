"""Aligned (time x asset) panels built from bars.

The database loader hands the research layer bars: a long frame of OHLCV bars
(``instrument_id, bar_open_ms, open, high, low, close, volume``), or only the columns a panel
needs as blocks (:class:`~crypto_analyzer.research.bar_columns.BarColumns`, no long frame at
all). Every research computation works
on wide, aligned panels instead: one row per bar open time on a regular grid, one column per
instrument.
:func:`panel_from_bars` does that reshaping once, checks the input, and derives log returns and
dollar volume, so signals, factor fits and costs all see the same alignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.core.memory import release_free_memory
from crypto_analyzer.core.row_blocks import row_blocks
from crypto_analyzer.research._checks import check_float, check_int
from crypto_analyzer.research.bar_columns import BarColumns, as_bar_columns, bar_layout

__all__ = [
    "Panel",
    "eligibility_mask",
    "filter_assets",
    "panel_from_bars",
]


@dataclass(frozen=True, slots=True)
class Panel:
    """Aligned wide panels on one regular time grid.

    Attributes
    ----------
    close : pandas.DataFrame
        Close prices; index ``bar_open_ms`` (int64, regular spacing ``bar_ms``), one column per
        instrument id, NaN where the instrument has no bar.
    volume : pandas.DataFrame
        Traded volume in base units, NaN where there is no bar.
    log_returns : pandas.DataFrame
        ``log(close_t / close_{t-1})``; NaN when either bar is missing, so no return is ever
        bridged across a gap.
    dollar_volume : pandas.DataFrame
        ``close * volume``: the liquidity proxy used by filters, signals and the cost model.
    bar_ms : int
        Bar length in milliseconds.
    calendar : str
        The trading calendar the rows follow (:mod:`crypto_analyzer.research.calendars`):
        ``24/7`` rows are every slot; other calendars keep only trading slots, so rows are
        consecutive *trading* bars and the index is no longer regular.
    bars_per_year : float or None
        Annualisation for this calendar; ``None`` means 24/7 (365.25 days of ``bar_ms`` bars).
    """

    close: pd.DataFrame
    volume: pd.DataFrame
    log_returns: pd.DataFrame
    dollar_volume: pd.DataFrame
    bar_ms: int
    calendar: str = "24/7"
    bars_per_year: float | None = None

    def __post_init__(self) -> None:
        for name in ("volume", "log_returns", "dollar_volume"):
            frame = getattr(self, name)
            if not frame.index.equals(self.close.index) or not frame.columns.equals(
                self.close.columns
            ):
                raise ValueError(f"Panel.{name} is not aligned with Panel.close")

    @property
    def assets(self) -> pd.Index:
        """Instrument ids (columns), sorted."""
        return self.close.columns

    @property
    def times(self) -> pd.Index:
        """Bar open times in epoch milliseconds (rows)."""
        return self.close.index

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_times, n_assets)``."""
        return self.close.shape

    @property
    def periods_per_year(self) -> float:
        """Bars per year for annualising: the calendar's, or 365.25 days of bars (24/7)."""
        if self.bars_per_year is not None:
            return self.bars_per_year
        return 365.25 * 86_400_000 / self.bar_ms

    def select_assets(self, assets: Any) -> Panel:
        """Panel restricted to ``assets`` (in the given order)."""
        cols = pd.Index(assets)
        missing = cols.difference(self.assets)
        if len(missing):
            raise ValueError(f"assets not in panel: {list(missing)[:5]}")
        return Panel(
            close=self.close[cols],
            volume=self.volume[cols],
            log_returns=self.log_returns[cols],
            dollar_volume=self.dollar_volume[cols],
            bar_ms=self.bar_ms,
            calendar=self.calendar,
            bars_per_year=self.bars_per_year,
        )

    def head_rows(self, n_rows: int) -> Panel:
        """The first ``n_rows`` bars: what a researcher standing at row ``n_rows - 1`` could see."""
        return Panel(
            close=self.close.iloc[:n_rows],
            volume=self.volume.iloc[:n_rows],
            log_returns=self.log_returns.iloc[:n_rows],
            dollar_volume=self.dollar_volume.iloc[:n_rows],
            bar_ms=self.bar_ms,
            calendar=self.calendar,
            bars_per_year=self.bars_per_year,
        )


def panel_from_bars(
    bars: pd.DataFrame | BarColumns, *, bar_ms: int | None = None, release: bool = False
) -> Panel:
    """Pivot bars (a long frame or :class:`BarColumns`) into an aligned :class:`Panel`.

    Parameters
    ----------
    bars : pandas.DataFrame or BarColumns
        Long frame with columns ``instrument_id, bar_open_ms, open, high, low, close, volume``
        (one row per instrument and bar), or the same bars as column blocks (only instrument,
        time, close and volume); both give the same panel, bit for bit.
    bar_ms : int, optional
        Bar length in milliseconds. If omitted it is inferred as the most common spacing between
        consecutive distinct bar open times.
    release : bool
        Forget each block of ``bars`` (a :class:`BarColumns`) once it is in the grids, so its
        memory is freed while the panel is built; ``bars`` cannot be used again afterwards.

    Returns
    -------
    Panel
        Rows on the full regular grid from the first to the last bar (a time with no bar for any
        instrument becomes an all-NaN row, so a horizon of ``h`` rows is always ``h`` bars).

    Raises
    ------
    ValueError
        On missing columns, NaN/inf values, non-positive closes, duplicate bars, or bar times that
        do not sit on the ``bar_ms`` grid.
    """
    bars = as_bar_columns(bars)
    columns, positions = bar_layout(bars)
    if bar_ms is not None:
        bar_ms = check_int("bar_ms", bar_ms, minimum=1)
    times = bars.times()
    if bar_ms is None:
        if times.size < 2:
            raise ValueError("cannot infer bar_ms from a single bar time; pass bar_ms")
        diffs, counts = np.unique(np.diff(times), return_counts=True)
        bar_ms = int(diffs[np.argmax(counts)])
    off_grid = (times - times[0]) % bar_ms != 0
    if off_grid.any():
        raise ValueError(
            f"bar_open_ms {int(times[off_grid][0])} is not on the {bar_ms} ms grid starting at "
            f"{int(times[0])}; pass the right bar_ms or resample first"
        )
    grid = pd.Index(np.arange(times[0], times[-1] + 1, bar_ms, dtype=np.int64), name="bar_open_ms")
    # Scattered straight into the wide grids (rows: time slot, columns: sorted ids), block by
    # block: what a pivot and two reindexes gave, without a long frame or their intermediates.
    close_values = np.full((len(grid), len(columns)), np.nan)
    volume_values = np.full((len(grid), len(columns)), np.nan)
    blocks = bars.drain() if release else iter(bars.blocks)
    for block, position in zip(blocks, positions, strict=True):
        # One flat (row-major) cell index per bar: half the index memory of a row and a column
        cells = (block.bar_open_ms - times[0]) // bar_ms
        cells *= len(columns)
        cells += position[block.codes]
        close_values.reshape(-1)[cells] = block.close
        volume_values.reshape(-1)[cells] = block.volume
        del block, cells  # a drained block is freed here, before the next one is read
    if release:
        release_free_memory()  # the blocks' pages, before the derived grids are allocated
    close = _frame(close_values, grid, columns)
    volume = _frame(volume_values, grid, columns)
    log_returns = pd.DataFrame(_log_returns(close.to_numpy()), index=grid, columns=close.columns)
    dollar_volume = close * volume
    return Panel(close, volume, log_returns, dollar_volume, bar_ms)


def _log_returns(close: np.ndarray) -> np.ndarray:
    """``log(close_t) - log(close_{t-1})`` per column (row 0 NaN), in one panel-sized array.

    The logs are taken in place and differenced from the last row up, a block at a time: a block
    only reads the row above it, which a later (higher) block has not changed yet. The values are
    those of ``log(close[1:]) - log(close[:-1])`` without its two panel-sized temporaries."""
    out = np.log(close)
    n_rows, n_cols = out.shape
    for rows in reversed(list(row_blocks(n_rows, n_cols))):
        first = max(rows.start, 1)
        out[first : rows.stop] -= out[first - 1 : rows.stop - 1]
    out[:1] = np.nan
    return out


def _frame(values: np.ndarray, grid: pd.Index, columns: list[Any]) -> pd.DataFrame:
    """A (time x asset) grid as a frame without a copy.

    Filled time-major, so the frame's memory is laid out as the pivot's was (one contiguous row
    of assets per time): reductions see the same memory order and give the same bits."""
    return pd.DataFrame(values, index=grid, columns=pd.Index(columns, name="instrument_id"),
                        copy=False)  # fmt: skip


def _filter_assets_iv(
    panel: Any, min_bars: Any, min_median_dollar_volume: Any, until_ms: Any
) -> tuple[int, float, int | None]:
    if not isinstance(panel, Panel):
        raise TypeError(f"panel must be a Panel, got {type(panel).__name__}")
    min_bars = check_int("min_bars", min_bars, minimum=0)
    min_dv = check_float("min_median_dollar_volume", min_median_dollar_volume, minimum=0.0)
    if until_ms is not None:
        until_ms = check_int("until_ms", until_ms)
    return min_bars, min_dv, until_ms


def filter_assets(
    panel: Panel,
    *,
    min_bars: int = 0,
    min_median_dollar_volume: float = 0.0,
    until_ms: int | None = None,
) -> Panel:
    """Keep the instruments with enough history and liquidity.

    Parameters
    ----------
    panel : Panel
        Input panel.
    min_bars : int
        Minimum number of bars with a close.
    min_median_dollar_volume : float
        Minimum median dollar volume over the bars present.
    until_ms : int, optional
        Only bars with ``bar_open_ms <= until_ms`` count. Pass the end of the first training window:
        a universe chosen with the whole sample knows which coins survived and were liquid later,
        which is look-ahead (survivorship) bias. Default ``None`` uses every bar; use it only for
        data-quality filtering. For a per-bar causal universe use :func:`eligibility_mask`.

    Returns
    -------
    Panel
        The same rows with the qualifying columns.
    """
    min_bars, min_dv, until_ms = _filter_assets_iv(
        panel, min_bars, min_median_dollar_volume, until_ms
    )
    rows = slice(None) if until_ms is None else panel.times <= until_ms
    close = panel.close.loc[rows]
    dv = panel.dollar_volume.loc[rows]
    keep = (close.notna().sum() >= min_bars) & (dv.median().fillna(0.0) >= min_dv)
    return panel.select_assets(panel.assets[keep.to_numpy()])


def _eligibility_mask_iv(panel: Any, window: Any, min_bars: Any, min_dv: Any) -> tuple[int, ...]:
    if not isinstance(panel, Panel):
        raise TypeError(f"panel must be a Panel, got {type(panel).__name__}")
    window = check_int("window", window, minimum=1)
    min_bars = check_int("min_bars", min_bars, minimum=0)
    if min_bars > window:
        raise ValueError(f"min_bars must be <= window ({window}), got {min_bars}")
    check_float("min_median_dollar_volume", min_dv, minimum=0.0)
    return window, min_bars


def eligibility_mask(
    panel: Panel, *, window: int, min_bars: int, min_median_dollar_volume: float = 0.0
) -> pd.DataFrame:
    """Causal per-bar universe: which instruments are tradable at each bar.

    An instrument is eligible at bar ``t`` when, over the trailing ``window`` bars ending at ``t``
    (data ``<= t`` only), it has at least ``min_bars`` closes and a median dollar volume of at
    least ``min_median_dollar_volume``. Masking signals with this frame avoids the survivorship
    bias of a whole-sample universe.

    Returns
    -------
    pandas.DataFrame
        Boolean frame aligned with ``panel.close``.
    """
    window, min_bars = _eligibility_mask_iv(panel, window, min_bars, min_median_dollar_volume)
    count = panel.close.notna().rolling(window, min_periods=1).sum()
    med = panel.dollar_volume.rolling(window, min_periods=max(min_bars, 1)).median()
    ok = (count >= max(min_bars, 1)) & (med.fillna(-1.0) >= float(min_median_dollar_volume))
    return ok & panel.close.notna()
