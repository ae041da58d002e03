"""Markdown and self-contained HTML renderings of a report summary.

The HTML carries its figures as data URIs and its styles inline, with no script, so it opens from
a file, an object store or an email attachment alike. Both renderings are pure functions of the
summary and the figure bytes, so reruns are byte-identical.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

__all__ = ["render_html", "render_markdown"]

_ENV = Environment(
    loader=PackageLoader("crypto_analyzer.pipeline.report", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters["num"] = lambda value, digits=3: "—" if value is None else f"{value:.{digits}f}"
_ENV.filters["cmp"] = lambda op: {">=": "≥", "<=": "≤"}.get(op, op)
_ENV.filters["sig"] = lambda value: "—" if value is None else f"{value:.4g}"
_ENV.filters["pct"] = lambda value, digits=1: (
    "—" if value is None else f"{value * 100:.{digits}f} %"
)


def render_html(summary: Mapping[str, Any], figures: Mapping[str, bytes]) -> str:
    """Self-contained HTML: figures inlined as base64 PNG data URIs."""
    encoded = {name: base64.b64encode(data).decode("ascii") for name, data in figures.items()}
    return _ENV.get_template("report.html.j2").render(
        s=summary, figures=list(encoded.items()), figure_data=encoded
    )


def render_markdown(summary: Mapping[str, Any], figure_names: list[str]) -> str:
    """Markdown with figure links relative to the report folder."""
    return _ENV.get_template("report.md.j2").render(s=summary, figure_names=figure_names)
