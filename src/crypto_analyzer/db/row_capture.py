"""Rows kept from the read that hashes a table, so a dataset id and a loader share one pass.

A report needs the STRICT dataset id of the market tables and the bars of one frequency, as of the
same watermark. Both read the whole ``bars`` table in key order; reading it twice (each in its own
Arrow worker) was a sixth of a report. A :class:`RowCapture` handed to
:func:`crypto_analyzer.db.dataset_id.compute_dataset_id` keeps, from the very batches being hashed,
the rows whose ``where`` column equals a value, projected on ``columns`` — the hashing itself is
unchanged, so the id is byte-identical to one computed without a capture.

SQLite only: its key order is the binary order ``load_bars`` sorts by, so the kept rows are already
in the loader's order. On PostgreSQL the id sorts text keys with ``COLLATE "C"`` while the loader
uses the database collation, so no rows are kept there (``frame`` stays ``None``) and the caller
loads them as before.

With ``keep_arrow`` an Arrow read is kept as the ``pyarrow.Table`` itself (``arrow``), not converted
to a frame: a caller that needs only some columns as numpy arrays (the report's panel) then never
holds a long frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crypto_analyzer.db.arrow_reader import system_pool

__all__ = ["RowCapture"]


@dataclass
class RowCapture:
    """Which rows of ``table`` to keep while it is hashed; ``frame`` holds them after the read
    (``arrow`` instead, with ``keep_arrow``, when the Arrow reader kept them)."""

    table: str
    columns: tuple[str, ...]
    where: tuple[str, Any]
    keep_arrow: bool = False
    frame: pd.DataFrame | None = None
    arrow: Any = None
    _rows: list[tuple[Any, ...]] = field(default_factory=list, repr=False)

    def positions(self, hashed: Sequence[str]) -> tuple[tuple[int, ...], int, Any] | None:
        """Column positions of the kept columns and of the filter in the hashed select list, and
        the filter value; ``None`` when the hash does not read one of them (nothing is kept)."""
        names = list(hashed)
        needed = [*self.columns, self.where[0]]
        if any(name not in names for name in needed):
            return None
        return (
            tuple(names.index(n) for n in self.columns),
            names.index(self.where[0]),
            self.where[1],
        )

    def start(self) -> None:
        """Forget what an earlier read kept (a table may be read again, e.g. with history)."""
        self.frame = None
        self.arrow = None
        self._rows = []

    def take(self, rows: Sequence[tuple[Any, ...]], spec: tuple[tuple[int, ...], int, Any]) -> None:
        """Keep the matching rows of one chunk of row tuples."""
        columns, where, value = spec
        self._rows.extend(tuple(row[i] for i in columns) for row in rows if row[where] == value)

    def finish_rows(self) -> None:
        """The kept row tuples as the frame."""
        self.frame = pd.DataFrame.from_records(self._rows, columns=list(self.columns))
        self._rows = []

    def finish_arrow(self, table: Any) -> None:
        """The kept rows read by the Arrow worker (a ``pyarrow.Table``) as the frame, or as the
        table itself with ``keep_arrow``."""
        if self.keep_arrow:
            self.arrow = table
            return
        # self_destruct: each Arrow column is released once converted (the table is not used
        # again), so the read's peak is not the table plus the whole frame
        self.frame = table.to_pandas(self_destruct=True, memory_pool=system_pool())
        self.frame.columns = list(self.columns)
