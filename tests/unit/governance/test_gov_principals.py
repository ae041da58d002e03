"""Principal ids: normalised, refusing invisible and look-alike characters (issue 21, finding 7).

Separation of duties used to compare raw strings, so the first promoter's name in another case,
with a Cyrillic letter in it, or with a zero-width space appended passed as a second person. These
tests pin the rule in ``governance.principals``: NFKC + case folding, then refusal of control,
format (zero-width, bidi) and space characters, of mixed scripts, of non-ASCII letters that imitate
ASCII ones, and of whole-script imitations of Latin names.
"""

from __future__ import annotations

import pytest

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.governance.principals import (
    Principal,
    normalise_principal,
    principal_skeleton,
    same_person,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("alice", "alice"),
        ("Alice", "alice"),
        ("ALICE", "alice"),
        ("\uff41\uff4c\uff49\uff43\uff45", "alice"),  # fullwidth letters (NFKC)
        ("\ufb01ona", "fiona"),  # the "fi" ligature (NFKC)
        ("Stra\u00dfe", "strasse"),  # case folding, not lower()
        ("bob\uff11", "bob1"),  # a fullwidth digit is a digit
        ("alice.smith@example.com", "alice.smith@example.com"),
        ("jos\u00e9", "jos\u00e9"),
        ("jose\u0301", "jos\u00e9"),  # combining accent composes to the same id
        ("S\u00f8ren", "s\u00f8ren"),
        ("\u0418\u0432\u0430\u043d", "\u0438\u0432\u0430\u043d"),  # Cyrillic "Ivan": not a twin
        ("\u5f20\u4f1f", "\u5f20\u4f1f"),  # Han
        ("\u5c71\u7530\u305f\u308d\u3046", "\u5c71\u7530\u305f\u308d\u3046"),  # Han + Hiragana
        ("\u30bf\u30ed\u30fc", "\u30bf\u30ed\u30fc"),  # Katakana with the long-vowel mark
    ],
)
def test_names_normalise(given: str, expected: str) -> None:
    assert normalise_principal(given) == expected


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("alice\u200b", "U+200B"),  # zero-width space
        ("\u200dalice", "U+200D"),  # zero-width joiner
        ("al\u00adice", "U+00AD"),  # soft hyphen
        ("alice\u2060", "U+2060"),  # word joiner
        ("alice\ufeff", "U+FEFF"),  # byte order mark
        ("alice\x00", "U+0000"),
        ("alice\n", "U+000A"),
        ("alice\x1b[31m", "U+001B"),
        ("alice\u202e", "U+202E"),  # right-to-left override
        ("\u2066alice\u2069", "U+2066"),  # left-to-right isolate
        ("\u200falice", "U+200F"),  # right-to-left mark
        ("alice smith", "U+0020"),
        ("alice\u00a0smith", "U+00A0"),
        (" alice", "U+0020"),
    ],
)
def test_invisible_and_control_characters_are_refused(given: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_principal(given)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("\u0430lice", "mixes"),  # Cyrillic a + Latin
        ("alic\u0435", "mixes"),  # Latin + Cyrillic e
        ("b\u03bfb", "mixes"),  # Greek omicron
        ("\u0410LICE", "mixes"),  # Cyrillic capital A
        ("alice\u5f20", "mixes"),  # Latin + Han
        ("\u0441\u043e\u0441\u043e", "looks like the Latin name 'coco'"),  # all-Cyrillic twin
        ("\u0432\u043e\u0432", "looks like the Latin name 'bob'"),
        ("\u0391\u0392\u0395", "looks like the Latin name 'abe'"),  # Greek capitals
        ("al\u0131ce", "U+0131"),  # dotless i
        ("\u0251lice", "U+0251"),  # Latin alpha
        ("\u1d00lice", "U+1D00"),  # small capital A
        ("bob\u0661", "U+0661"),  # Arabic-Indic digit one
        ("", "empty"),
        ("-alice", "must start with a letter or digit"),
        ("os:alice", "U+003A"),  # ':' is reserved for the os: prefix
        ("a" * 65, "64"),
    ],
)
def test_look_alikes_and_malformed_names_are_refused(given: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_principal(given)
    assert fragment in str(caught.value), str(caught.value)


def test_non_strings_are_refused() -> None:
    with pytest.raises(ValidationError):
        normalise_principal(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("alice", "ALICE"),
        ("alice", "alice\u200b"),  # legacy free-form names are compared leniently, never raising
        ("alice", "\u0430lice"),
        ("alice", "os:alice"),  # the OS account and the registered principal of one person
        ("alice", "a1ice"),
        ("bob", "b0b"),
        ("jose", "jos\u00e9"),
        ("martin", "rnartin"),
        ("alice", "al\u0131ce"),
        ("alice", "al\u202eice"),
        ("mary-ann", "maryann"),
    ],
)
def test_the_same_person_in_disguise(first: str, second: str) -> None:
    assert same_person(first, second)
    assert same_person(second, first)


@pytest.mark.parametrize(("first", "second"), [("alice", "bob"), ("alice", "alice2"), ("", "a")])
def test_different_people(first: str, second: str) -> None:
    assert not same_person(first, second)


def test_skeleton_is_stable_and_drops_the_os_prefix() -> None:
    assert principal_skeleton("os:alice") == principal_skeleton("alice") == "alice"
    assert principal_skeleton("\u0441\u043e\u0441\u043e") == "coco"


def test_principal_records_its_source() -> None:
    declared = Principal.declared("Alice")
    assert declared == Principal("alice", "Alice", None, "declared")
    os_user = Principal.from_os("Root")
    assert os_user.principal_id == "os:root" and os_user.source == "os"
    assert os_user.names("root") and os_user.names("os:root") and not os_user.names("bob")
    with pytest.raises(ValueError, match="source"):
        Principal("alice", "alice", None, "guessed")
    with pytest.raises(ValueError, match="role"):
        Principal("alice", "alice", "owner", "token")
