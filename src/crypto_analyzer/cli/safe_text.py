"""Terminal-safe rendering of values the CLI did not write itself.

Hypotheses, tags, signal names, reasons, principal names, provider error messages and run ids come
from config files, the database, the artifact store and remote services — anyone who can write
them could otherwise clear the screen, plant an OSC-8 hyperlink, rewrite a line with CR, reorder
text with a bidi override, or restyle output with rich markup when the CLI prints them. Everything
user-controlled goes through :func:`printable` (for rich) or :func:`visible` (plain text) before it
reaches a terminal; :class:`SafeConsole` applies :func:`visible` once more to every string rich
renders, so a call site that forgets still cannot emit a control character.

Characters spelled out: C0 controls, DEL, C1 controls, the bidi marks/embeddings/overrides/isolates
(U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), the line and paragraph separators
(U+2028, U+2029) and lone surrogates. ``\\t``, ``\\n`` and ``\\r`` get their short escapes, others
``\\xNN`` or ``\\uNNNN`` — the spelling Python's ``repr`` uses, so a reader recognises it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

__all__ = ["SafeConsole", "SafeLogFormatter", "json_for_terminal", "printable", "visible"]

_OTHER_UNSAFE = r"\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(rf"[\x00-\x1f{_OTHER_UNSAFE}]")
_UNSAFE_KEEP_NEWLINE = re.compile(rf"[\x00-\x09\x0b-\x1f{_OTHER_UNSAFE}]")
_NON_C0 = re.compile(f"[{_OTHER_UNSAFE}]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _spell(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(value: object, *, keep_newlines: bool = False) -> str:
    """``str(value)`` with every terminal-control and bidi character spelled out.

    Idempotent (the spellings are plain ASCII). ``keep_newlines`` leaves ``\\n`` alone for text
    that is meant to span lines (a traceback); every other control is still spelled out.
    """
    text = value if isinstance(value, str) else str(value)
    pattern = _UNSAFE_KEEP_NEWLINE if keep_newlines else _UNSAFE
    return pattern.sub(_spell, text)


def printable(value: object) -> str:
    """:func:`visible` text with rich markup escaped: safe inside any string handed to rich."""
    return escape(visible(value))


def json_for_terminal(text: str) -> str:
    """Canonical JSON text with the characters RFC 8785 leaves raw written as ``\\uXXXX``.

    Canonical JSON already escapes C0 controls; DEL, C1 controls, bidi controls, the separators and
    lone surrogates it writes verbatim. They only ever occur inside JSON strings (the structure is
    ASCII), so replacing them by ``\\u`` escapes changes no parsed value: ``json.loads`` of the
    result equals ``json.loads`` of the input.
    """
    return _NON_C0.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


class SafeConsole(Console):
    """A rich console that spells out control characters in every string it renders.

    Markup tags written by the CLI never contain control characters, so spelling them out before
    markup is parsed cannot change the CLI's own styling; it only defuses what a caller forgot to
    pass through :func:`printable`. Emoji shortcodes are off by default, so ``:name:`` in user data
    prints literally too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("emoji", False)
        super().__init__(*args, **kwargs)
        if kwargs.get("width") is None:
            # rich freezes ``COLUMNS`` as read at construction; the CLI's consoles are module
            # globals, so read the width when printing, from the environment of that moment.
            self._width = None

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(visible(text, keep_newlines=True), **kwargs)


class SafeLogFormatter(logging.Formatter):
    """Log lines with control characters spelled out (messages can quote stored values)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return visible(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return visible(super().formatException(ei), keep_newlines=True)

    def formatStack(self, stack_info: str) -> str:
        return visible(super().formatStack(stack_info), keep_newlines=True)
