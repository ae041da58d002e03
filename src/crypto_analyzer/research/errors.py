"""Errors raised by the research layer.

Fold causality is an invariant (DESIGN.md §3.6): a fitted transform that saw a row outside its
fold's training set is a programming error in the research code, not a user input problem, so it
derives from ``RuntimeError`` and is never caught and ignored by the driver.
"""

from __future__ import annotations

__all__ = ["LeakageError"]


class LeakageError(RuntimeError):
    """A fit saw rows outside the fold's (purged, embargoed) training set.

    The message names the transform, the fold, how many offending rows there were and the first few
    row positions, so the leak can be located from the message alone.
    """
