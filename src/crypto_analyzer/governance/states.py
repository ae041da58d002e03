"""The promotion state machine: statuses, evaluation levels and the allowed edges.

The same edges are enforced three times on purpose (DESIGN §3.5): here for the service and the
policy's lifecycle rule, and by the database triggers of revision 0002 for everyone else. The graph
is acyclic, so a candidate reaches each status at most once — which is what lets the database
demand exactly one governance event per status change.
"""

from __future__ import annotations

from typing import Literal, get_args

from crypto_analyzer.core.errors import ValidationError

__all__ = [
    "ALLOWED_EDGES",
    "GENESIS_STATUS",
    "LEVELS",
    "REVIEW_TARGETS",
    "STATUSES",
    "TERMINAL_STATUSES",
    "Level",
    "Status",
    "can_transition",
    "check_level",
]

Status = Literal["exploratory", "candidate", "accepted", "rejected", "revoked"]
Level = Literal["candidate", "accepted"]

STATUSES: tuple[str, ...] = get_args(Status)
LEVELS: tuple[str, ...] = get_args(Level)
GENESIS_STATUS: Status = "exploratory"
TERMINAL_STATUSES = frozenset({"rejected", "revoked"})

ALLOWED_EDGES: frozenset[tuple[str, str]] = frozenset(
    {
        ("exploratory", "candidate"),
        ("exploratory", "rejected"),
        ("candidate", "accepted"),
        ("candidate", "rejected"),
        ("accepted", "revoked"),
    }
)
"""(from, to) pairs a status may move along; everything else is refused."""

REVIEW_TARGETS = {"rejected": ("exploratory", "candidate"), "revoked": ("accepted",)}
"""Reviewer actions and the statuses they may start from."""


def can_transition(current: str, target: str) -> bool:
    """True when ``current -> target`` is an allowed edge."""
    return (current, target) in ALLOWED_EDGES


def check_level(value: str) -> Level:
    """Validate an evaluation level given by a user (exactly ``candidate`` or ``accepted``)."""
    if value not in LEVELS:
        raise ValidationError(
            f"evaluation level {value!r} is not one of: {', '.join(LEVELS)}",
            "evaluate --to candidate first, then --to accepted",
        )
    return value  # type: ignore[return-value]
