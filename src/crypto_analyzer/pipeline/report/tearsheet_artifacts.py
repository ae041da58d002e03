"""Tear-sheet artifacts of a run: full-resolution data, one figure per hypothesis, render rows.

``stats/tearsheet.json`` holds the headline numbers per hypothesis and ``tearsheet/series.csv``
every out-of-sample bar of every tear-sheet series (columns ``<hypothesis>.<series>``) — the
figures downsample for display only, the data keeps full resolution.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crypto_analyzer.pipeline.report.compute import ReportComputation, hypothesis_id
from crypto_analyzer.pipeline.report.figures import hypothesis_label
from crypto_analyzer.pipeline.report.writer import RunArtifacts

__all__ = [
    "TEARSHEET_JSON",
    "TEARSHEET_SERIES",
    "tearsheet_figure_name",
    "tearsheet_rows",
    "write_tearsheets",
]

TEARSHEET_JSON = "stats/tearsheet.json"
TEARSHEET_SERIES = "tearsheet/series.csv"


def tearsheet_figure_name(hypothesis: str) -> str:
    """Figure name (``figures/<name>.png``) of one hypothesis' tear sheet."""
    return f"tearsheet/{hypothesis}"


def write_tearsheets(
    written: RunArtifacts, computation: ReportComputation, *, edges: tuple[tuple[str, str], ...]
) -> None:
    """Store the tear-sheet numbers and series (nothing when the computation has none)."""
    sheets = computation.tearsheets
    if not sheets:
        return
    document = {
        "hypotheses": {
            hypothesis_id(s, h): sheet.summary() for (s, h), sheet in sorted(sheets.items())
        },
        "schema_version": 1,
    }
    written.put_json(TEARSHEET_JSON, document, artifact_type="tearsheet", schema_version="1",
                     edges=(("derived_from", "portfolio/net_returns.csv"), *edges))  # fmt: skip
    frames = []
    for (signal, horizon), sheet in sorted(sheets.items()):
        prefix = hypothesis_id(signal, horizon)
        frames.append(sheet.series.add_prefix(f"{prefix}."))
    series = pd.concat(frames, axis=1)
    series.index.name = "bar_open_ms"
    written.put_csv(TEARSHEET_SERIES, series, artifact_type="tearsheet_series",
                    edges=(("derived_from", TEARSHEET_JSON), *edges))  # fmt: skip


def tearsheet_rows(computation: ReportComputation) -> list[dict[str, Any]]:
    """What the templates show per hypothesis: caption, figure name and headline numbers."""
    return [
        {
            "caption": hypothesis_label(sheet.hypothesis),
            "figure": tearsheet_figure_name(sheet.hypothesis),
            "hypothesis": sheet.hypothesis,
            **sheet.summary(),
        }
        for _, sheet in sorted(computation.tearsheets.items())
    ]
