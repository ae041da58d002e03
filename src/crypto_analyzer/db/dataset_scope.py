"""Dataset scopes: which tables (and columns) a dataset identity covers, and their text form.

Why it exists. A scope is what ``check-dataset --scope`` parses and what a research run consumes
(:data:`DEFAULT_SCOPE`); keeping its definition apart from the hashing in
:mod:`.dataset_id` keeps each module to one job. ``dataset_id`` re-exports these names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crypto_analyzer.core.errors import ValidationError

__all__ = ["DEFAULT_SCOPE", "TableScope", "parse_scope"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class TableScope:
    """One table in a dataset scope; ``columns=None`` hashes every column but ``tenant_id`` (and,
    for a versioned table, its ``revision`` stamp)."""

    table: str
    columns: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"columns": list(self.columns) if self.columns else None, "table": self.table}

    def __str__(self) -> str:
        return self.table if not self.columns else f"{self.table}({','.join(self.columns)})"


DEFAULT_SCOPE: tuple[TableScope, ...] = (
    TableScope(
        "bars",
        (
            "instrument_id",
            "freq",
            "bar_open_ms",
            "open",
            "high",
            "low",
            "close",
            "volume",
            "vwap",
            "log_return",
        ),
    ),
    TableScope(
        "instruments",
        ("instrument_id", "venue", "symbol", "base", "quote", "kind", "chain", "pair_address"),
    ),
)
"""What a research run consumes: market content, without provenance stamps (run ids, fetch times),
so that re-ingesting identical data — e.g. after a killed backfill is resumed — keeps its
identity."""


_SCOPE_ENTRY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^()]*)\))?\s*")


def parse_scope(spec: str) -> tuple[TableScope, ...]:
    """Parse ``"bars(instrument_id,close),instruments"`` into table scopes; anything else fails."""
    scopes: list[TableScope] = []
    position, text = 0, spec.strip()
    while text and position <= len(text):
        match = _SCOPE_ENTRY.match(text, position)
        if match is None or match.end() == position:
            raise ValidationError(
                f"scope {spec!r} is malformed near {text[position : position + 20]!r}",
                "use TABLE or TABLE(COL,COL,…), separated by commas",
            )
        table, columns = match.group(1), match.group(2)
        names = tuple(name.strip() for name in columns.split(",")) if columns else None
        if names is not None and not all(_IDENTIFIER.match(name) for name in names):
            raise ValidationError(f"column list for {table!r} is malformed: {columns!r}")
        scopes.append(TableScope(table, names))
        position = match.end()
        if position == len(text):
            break
        if text[position] != ",":
            raise ValidationError(
                f"scope {spec!r} is malformed near {text[position : position + 20]!r}",
                "use TABLE or TABLE(COL,COL,…), separated by commas",
            )
        position += 1
    if not scopes:
        raise ValidationError(f"scope {spec!r} names no table", "e.g. --scope bars,instruments")
    return tuple(scopes)
