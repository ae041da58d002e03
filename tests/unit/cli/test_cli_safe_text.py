"""The terminal-safety helper: every control and bidi character is spelled out, markup is literal.

These are the unit rules; ``tests/integration/governance/test_cli_terminal_escapes.py`` checks that
every command routes stored values through them.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from crypto_analyzer.cli.safe_text import (
    SafeConsole,
    SafeLogFormatter,
    json_for_terminal,
    printable,
    visible,
)
from crypto_analyzer.core.canonical_json import canonical_dumps

UNSAFE = (
    [chr(code) for code in range(0x00, 0x20)]
    + ["\x7f"]
    + [chr(code) for code in range(0x80, 0xA0)]
    + ["\u061c", "\u200e", "\u200f", "\u2028", "\u2029"]
    + [chr(code) for code in range(0x202A, 0x202F)]
    + [chr(code) for code in range(0x2066, 0x206A)]
    + ["\ud800", "\udcff"]
)


@pytest.mark.parametrize("char", UNSAFE, ids=lambda c: f"U+{ord(c):04X}")
def test_every_unsafe_character_is_spelled_out(char: str) -> None:
    shown = visible(f"a{char}b")
    assert char not in shown
    assert shown.startswith("a") and shown.endswith("b") and "\\" in shown


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J", "\\x1b[2J"),
        ("\x1b]8;;http://evil\x07", "\\x1b]8;;http://evil\\x07"),
        ("a\rb", "a\\rb"),
        ("a\nb\tc", "a\\nb\\tc"),
        ("\x9b31m", "\\x9b31m"),
        ("\x7f", "\\x7f"),
        ("\u202eevil", "\\u202eevil"),
        ("\u2066x\u2069", "\\u2066x\\u2069"),
        ("\x00", "\\x00"),
        ("plain text, ünïcödé and emoji 🙂", "plain text, ünïcödé and emoji 🙂"),
    ],
)
def test_known_spellings(raw: str, shown: str) -> None:
    assert visible(raw) == shown


def test_newlines_can_be_kept_for_multi_line_text() -> None:
    assert visible("line 1\nline\x1b 2\r", keep_newlines=True) == "line 1\nline\\x1b 2\\r"


def test_values_that_are_not_strings_are_rendered_with_str() -> None:
    assert visible(42) == "42" and visible(None) == "None" and printable(1.5) == "1.5"


@given(st.text())
def test_visible_is_idempotent_and_leaves_no_unsafe_character(text: str) -> None:
    once = visible(text)
    assert visible(once) == once
    assert not any(char in once for char in UNSAFE)


def _render(text: str) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=200, emoji=False).print(text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "value",
    ["[bold red]markup[/]", "[link=http://evil]x[/link]", "trailing backslash \\", "\\[red]x"],
)
def test_printable_defuses_rich_markup(value: str) -> None:
    """Inside the CLI's own markup the value can neither open nor close a tag."""
    assert _render(f"[bold]{printable(value)}[/bold] done").rstrip("\n") == f"{value} done"


def test_safe_console_spells_out_controls_even_when_a_caller_forgets() -> None:
    buffer = io.StringIO()
    console = SafeConsole(file=buffer, width=200)
    console.print("a\x1b[2Jb\u202ec :smile:")
    assert buffer.getvalue() == "a\\x1b[2Jb\\u202ec :smile:\n"


def test_json_for_terminal_escapes_what_canonical_json_leaves_raw_and_round_trips() -> None:
    value = {"k\u202e": ["\x1b[2J", "\x9b\x7f", "\u2066\u2028", "ok é"]}
    canonical = canonical_dumps(value)
    assert "\x9b" in canonical and "\u202e" in canonical  # RFC 8785 writes these raw
    safe = json_for_terminal(canonical)
    assert not any(char in safe for char in UNSAFE)
    assert json.loads(safe) == value
    assert "ok é" in safe  # ordinary non-ASCII text stays readable


@given(st.recursive(st.text(), lambda inner: st.lists(inner, max_size=3), max_leaves=8))
def test_json_for_terminal_round_trips_any_text(value: object) -> None:
    safe = json_for_terminal(canonical_dumps(value))
    assert json.loads(safe) == value
    assert not any(char in safe for char in UNSAFE)


def test_log_formatter_spells_out_controls_in_messages() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "bad %s", ("\x1b[2J",), None)
    formatted = SafeLogFormatter("%(levelname)s %(message)s").format(record)
    assert formatted == "WARNING bad \\x1b[2J"


def test_the_console_width_follows_columns_at_print_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    console = SafeConsole(file=io.StringIO())
    assert console.width == 60
    monkeypatch.setenv("COLUMNS", "200")
    assert console.width == 200  # rich alone would keep the 60 it read at construction
    assert SafeConsole(file=io.StringIO(), width=90).width == 90
