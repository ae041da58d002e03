"""The state machine's edges: acyclic, every status reachable only from exploratory."""

from __future__ import annotations

import pytest

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.governance.states import (
    ALLOWED_EDGES,
    STATUSES,
    TERMINAL_STATUSES,
    can_transition,
    check_level,
)


def test_edges_are_exactly_the_documented_ones() -> None:
    assert {
        ("exploratory", "candidate"),
        ("exploratory", "rejected"),
        ("candidate", "accepted"),
        ("candidate", "rejected"),
        ("accepted", "revoked"),
    } == ALLOWED_EDGES
    assert STATUSES == ("exploratory", "candidate", "accepted", "rejected", "revoked")


def test_terminal_statuses_have_no_way_out_and_nothing_returns() -> None:
    for terminal in TERMINAL_STATUSES:
        assert not any(can_transition(terminal, target) for target in STATUSES)
    assert not any(can_transition(status, "exploratory") for status in STATUSES)
    assert not can_transition("exploratory", "accepted")
    assert not can_transition("accepted", "candidate")


@pytest.mark.parametrize("value", ["Accepted", "accepted ", "revoked", ""])
def test_levels_are_exact(value: str) -> None:
    with pytest.raises(ValidationError, match="evaluation level"):
        check_level(value)
    assert check_level("accepted") == "accepted"
