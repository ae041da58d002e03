"""Verifying an append-only hash chain from its rows alone.

Governance events and the trial ledger are chains of rows numbered ``seq`` 0, 1, 2… where each
row stores the previous row's ``hash`` as ``prev_hash`` and its own ``hash`` over its content
(:func:`~crypto_analyzer.core.hashing.chained_sha256`). One verifier serves both, so "what counts
as an intact chain" is decided in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from crypto_analyzer.core.hashing import GENESIS_HASH

__all__ = ["ChainLink", "verify_links"]


class ChainLink(Protocol):
    """What a chained row exposes to the verifier."""

    @property
    def seq(self) -> int: ...

    @property
    def prev_hash(self) -> str: ...

    @property
    def hash(self) -> str: ...


Link = TypeVar("Link", bound=ChainLink)


def verify_links(
    links: Sequence[Link],
    *,
    recompute: Callable[[Link], str],
    label: Callable[[Link], str],
    what: str = "row",
) -> list[str]:
    """Findings for one chain given in ``seq`` order; empty when it is intact.

    Checks that ``seq`` runs 0, 1, 2… without gaps or repeats, that each ``prev_hash`` is the
    previous row's ``hash`` (the genesis hash for the first), and that each ``hash`` equals
    ``recompute(row)``.
    """
    findings: list[str] = []
    expected_prev = GENESIS_HASH
    for position, link in enumerate(links):
        name = label(link)
        if link.seq != position:
            findings.append(
                f"{name}: expected seq {position} — a {what} is missing, inserted or renumbered"
            )
        if link.prev_hash != expected_prev:
            findings.append(
                f"{name}: prev_hash {link.prev_hash[:16]}… does not match the hash "
                f"{expected_prev[:16]}… of the {what} before it"
            )
        recomputed = recompute(link)
        if recomputed != link.hash:
            findings.append(
                f"{name}: stored hash {link.hash[:16]}… differs from the recomputed "
                f"{recomputed[:16]}… — a field was edited"
            )
        expected_prev = link.hash
    return findings
