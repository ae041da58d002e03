"""The event hash chain, from rows alone: every field is covered, every link is checked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from crypto_analyzer.governance import GENESIS_HASH, EventRecord, event_hash, verify_chain


def _chain(length: int = 4) -> list[EventRecord]:
    events: list[EventRecord] = []
    prev = GENESIS_HASH
    for seq in range(length):
        values = {
            "tenant_id": "default",
            "event_id": f"evt_{seq}",
            "seq": seq,
            "candidate_id": "cand_1",
            "event_type": "evaluated",
            "from_status": "exploratory",
            "to_status": None,
            "report_id": f"rep_{seq}",
            "actor": "alice",
            "payload_json": '{"n":' + str(seq) + "}",
            "created_at": "2026-01-01T00:00:00.000000Z",
            "prev_hash": prev,
        }
        values["hash"] = event_hash(prev, values)
        events.append(EventRecord.from_row(values))
        prev = values["hash"]
    return events


def test_an_intact_chain_verifies() -> None:
    assert verify_chain(_chain()) == []
    assert verify_chain([]) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tenant_id", "other"),
        ("event_id", "evt_x"),
        ("candidate_id", "cand_2"),
        ("event_type", "promoted"),
        ("from_status", "candidate"),
        ("to_status", "accepted"),
        ("report_id", None),
        ("actor", "mallory"),
        ("payload_json", "{}"),
        ("created_at", "2030-01-01T00:00:00.000000Z"),
    ],
)
def test_editing_any_hashed_field_is_found(field: str, value: object) -> None:
    events = _chain()
    events[2] = replace(events[2], **{field: value})
    findings = verify_chain(events)
    assert any("evt_" in item and "a field was edited" in item for item in findings), findings


def test_broken_links_gaps_and_reordering_are_found() -> None:
    events = _chain()
    assert any("prev_hash" in item for item in verify_chain([*events[:1], *events[2:]]))
    assert any("expected seq 1" in item for item in verify_chain([*events[:1], *events[2:]]))
    assert verify_chain([events[1], events[0], *events[2:]])
    rehashed = replace(events[1], hash="0" * 64)
    assert any(
        "differs from the recomputed" in item
        for item in verify_chain([events[0], rehashed, *events[2:]])
    )
    assert any("seq" in item for item in verify_chain([replace(events[0], seq=3)]))
