"""Every figure of a run with 20 hypotheses reads well: legends beside the data, distinct colours,
labelled axes, and captions that are not raw ids."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox
from report_workspace import workspace

from crypto_analyzer.db.loaders import load_bars, load_instruments
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.pipeline.report.compute import compute_report
from crypto_analyzer.pipeline.report.config import ReportConfig
from crypto_analyzer.pipeline.report.figure_style import TOP_N
from crypto_analyzer.pipeline.report.power import power_analysis
from crypto_analyzer.pipeline.report.report_figures import iter_figures

TWENTY = {
    "signals": ["momentum_24h", "short_reversal", "low_vol", "volume_surprise", "volume_shock"],
    "horizons": [1, 2, 4, 8],
    "min_assets": 5,
    "factor_window": 120,
    "splits": {"test_size": 240, "min_train_size": 480, "embargo": 8},
    "procedures": {"bootstrap_reps": 100, "pbo_blocks": 8},
    "portfolio": {"k": 2},
}


def _overlaps(a: Bbox, b: Bbox) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _labelled_colours(axis: plt.Axes) -> list[str]:
    legend = axis.get_legend()
    if legend is None:
        return []
    out = []
    for handle in legend.legend_handles:
        if handle is None:
            continue
        colour = handle.get_color() if hasattr(handle, "get_color") else handle.get_facecolor()
        out.append(to_hex(colour if isinstance(colour, str) else tuple(colour)[:3]))  # type: ignore[arg-type]
    return out


def _check(name: str, figure: Figure) -> int:
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    canvas = figure.bbox
    data_areas = [axis.get_window_extent(renderer) for axis in figure.axes if axis.has_data()]
    legends = 0
    for axis in figure.axes:
        legend = axis.get_legend()
        if legend is not None:
            legends += 1
            box = legend.get_window_extent(renderer)
            for area in data_areas:
                where = f"{name}: legend of {axis.get_title()!r}"
                assert not _overlaps(box, area), f"{where} covers data"
            assert canvas.x0 <= box.x0 and box.x1 <= canvas.x1 + 1, f"{name}: legend cut off"
            colours = _labelled_colours(axis)
            assert len(colours) == len(set(colours)), f"{name}: a colour repeats: {colours}"
            assert len(colours) <= TOP_N + 1, f"{name}: {len(colours)} legend entries"
            labels = [text.get_text() for text in legend.get_texts()]
            assert not any("@" in label for label in labels), f"{name}: raw ids {labels}"
        if axis.has_data() and not axis.images and axis.get_label() != "<colorbar>":
            # a plotted panel says what its values are (units in the axis label)
            assert axis.get_xlabel() or axis.get_ylabel(), f"{name}: unlabelled axes"
            assert axis.get_title() or figure.get_suptitle(), f"{name}: untitled panel"
    plt.close(figure)
    return legends


def test_every_figure_of_a_twenty_hypothesis_run_keeps_legends_off_the_data(
    tmp_path: Path,
) -> None:
    settings = workspace(tmp_path)
    with open_engine(settings, read_only=True) as engine:
        bars = load_bars(engine, tenant_id=settings.tenant, freq="1h")
        instruments = load_instruments(engine, tenant_id=settings.tenant)
    config = ReportConfig.model_validate(TWENTY)
    computation = compute_report(bars, instruments, config, run_key="k" * 64, dataset_id="d")
    assert len(computation.hypotheses) == 20
    seen: dict[str, int] = {}
    power = power_analysis(computation, config)
    for name, figure in iter_figures(computation, power):
        seen[name] = _check(name, figure)
    assert {"ic_decay", "cumulative_net_returns", "capacity", "power_curve"} <= set(seen)
    assert sum(1 for name in seen if name.startswith("tearsheet/")) == 20
    # the many-series figures do have legends, and they passed the checks above
    assert seen["cumulative_net_returns"] == seen["capacity"] == seen["power_curve"] == 1


@pytest.mark.parametrize("n", [3, 20])
def test_cumulative_figure_groups_many_series_into_others(n: int) -> None:
    import numpy as np
    import pandas as pd

    from crypto_analyzer.pipeline.report.figures import build_cumulative_returns

    rng = np.random.default_rng(n)
    index = pd.Index(np.arange(3000) * 3_600_000, name="bar_open_ms")
    frame = pd.DataFrame(
        rng.normal(0.0, 0.01, (3000, n)), index=index, columns=[f"sig{i}@1" for i in range(n)]
    )
    figure = build_cumulative_returns(frame)
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    if n > TOP_N + 1:
        assert len(labels) == TOP_N + 1 and labels[0] == f"{n - TOP_N} others (range)"
    else:
        assert len(labels) == n
    # display-only downsampling: no line carries more points than the budget
    assert all(len(line.get_xdata()) <= 1502 for line in figure.axes[0].get_lines())
    _check(f"cumulative {n}", figure)
