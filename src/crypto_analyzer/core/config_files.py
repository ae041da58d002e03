"""Reading config files that may be hostile: size before reading, nesting before parsing.

Every TOML file the project reads (report configs, policy files, ``crypto-analyzer.toml``) goes
through here first. Two things used to crash instead of failing cleanly: a file of any size was
read whole, and ``tomllib`` parses arrays and inline tables recursively, so ``[[[[…]]]]`` 10,000
deep ended in ``RecursionError``. Dotted keys (``[a.a.a…]``) parse iteratively but produce a
structure just as deep for pydantic, ``repr`` and canonical JSON. So: the file size is checked
from ``stat`` and the read is capped; brackets are counted by a small scanner that skips strings
and comments before ``tomllib`` sees the text; the parsed document's depth is checked without
recursion. Violations raise the caller's error class (``ConfigError`` by default, exit 2) naming
the file, what was wrong and the limit.
"""

from __future__ import annotations

import re
import reprlib
import tomllib
from pathlib import Path
from typing import Any

from crypto_analyzer.core.errors import ConfigError, CryptoAnalyzerError

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_CONFIG_DEPTH",
    "check_nesting",
    "describe_value",
    "parse_toml",
    "read_config_file",
]

MAX_CONFIG_BYTES = 1 << 20
"""1 MiB: real configs are a few kilobytes; the largest legitimate one is a policy with plugins."""
MAX_CONFIG_DEPTH = 16
"""Nested arrays/tables: real configs use 3 (``signal_params.<signal>.<param>``)."""

ErrorClass = type[CryptoAnalyzerError]

_SHORT = reprlib.Repr()
_SHORT.maxstring = 40
_SHORT.maxother = 40
_SHORT.maxlong = 40
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxset = _SHORT.maxdict = 6
_SHORT.maxlevel = 3


def describe_value(value: Any) -> str:
    """A short, one-line ``repr`` for error messages: long text and lists say how long they are.

    Depth-limited (no recursion into a hostile structure) and, being a ``repr``, control
    characters come out escaped.
    """
    text = _SHORT.repr(value)
    if isinstance(value, str) and len(value) > _SHORT.maxstring:
        text += f" ({len(value):,} characters)"
    elif isinstance(value, (list, tuple, dict)) and len(value) > _SHORT.maxlist:
        text += f" ({len(value):,} items)"
    return text


def read_config_file(
    path: Path | str,
    *,
    what: str,
    error: ErrorClass = ConfigError,
    max_bytes: int = MAX_CONFIG_BYTES,
) -> str:
    """The UTF-8 text of ``path``, refusing files over ``max_bytes`` before reading them."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > max_bytes:
            raise error(
                f"{what} is {size:,} bytes; the limit is {max_bytes:,} bytes",
                "a config file is a few kilobytes; check that the path names the right file",
            )
        with file.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise error(f"{what} does not exist", "check the path") from None
    except IsADirectoryError:
        raise error(f"{what} is a directory, not a file", "check the path") from None
    except PermissionError:
        raise error(f"{what} cannot be read (permission denied)", "check the path") from None
    if len(data) > max_bytes:  # grew after stat, or a special file that reports size 0
        raise error(f"{what} is larger than {max_bytes:,} bytes; the limit is {max_bytes:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} is not UTF-8 (byte {exc.start})", "save the file as UTF-8") from None


def parse_toml(
    text: str, *, what: str, error: ErrorClass = ConfigError, max_depth: int = MAX_CONFIG_DEPTH
) -> dict[str, Any]:
    """Parse TOML text after refusing bracket nesting deeper than ``max_depth``.

    The parsed document is then checked for depth as well (dotted keys and table headers nest
    without brackets).
    """
    line = _first_line_too_deep(text, max_depth)
    if line is not None:
        raise error(
            f"{what} nests arrays or inline tables deeper than {max_depth} levels (line {line})",
            "flatten the structure",
        )
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} is not valid TOML: {exc}", "fix the syntax") from None
    check_nesting(document, what=what, error=error, max_depth=max_depth)
    return document


def check_nesting(
    value: Any, *, what: str, error: ErrorClass = ConfigError, max_depth: int = MAX_CONFIG_DEPTH
) -> None:
    """Refuse dicts/lists nested more than ``max_depth`` below the top (iterative, no recursion).

    ``{"a": [[1]]}`` is two levels deep, as are ``a = [[1]]`` and ``[a.b]`` in TOML.
    """
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            children = [(child, (*path, str(key))) for key, child in item.items()]
        elif isinstance(item, (list, tuple)):
            children = [(child, (*path, f"[{index}]")) for index, child in enumerate(item)]
        else:
            continue
        if len(path) > max_depth:
            shown = ".".join(path[:6]).replace(".[", "[") + ("…" if len(path) > 6 else "")
            raise error(
                f"{what}: key {shown} nests deeper than {max_depth} levels",
                "flatten the structure",
            )
        stack.extend(children)


_INTERESTING = re.compile(r"[#\"'\[\]{}]")
_STRINGS = {
    '"""': re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*""""{0,2}', re.DOTALL),
    "'''": re.compile(r"'''(?:[^']|'(?!''))*''''{0,2}"),
    '"': re.compile(r'"(?:[^"\\\n]|\\.)*"?'),
    "'": re.compile(r"'[^'\n]*'?"),
}


def _first_line_too_deep(text: str, max_depth: int) -> int | None:
    """Line where ``[``/``{`` nesting outside strings and comments first exceeds ``max_depth``.

    Mirrors TOML's lexical rules for what hides brackets: comments run to the end of the line,
    basic strings have backslash escapes, literal strings do not, and the triple-quoted forms span
    lines (their closing delimiter may be followed by up to two quotes that belong to the string).
    An unterminated string hides the rest of the text, which tomllib then rejects as invalid.
    """
    depth = 0
    index = 0
    while (match := _INTERESTING.search(text, index)) is not None:
        index = match.start()
        char = text[index]
        if char == "#":
            end = text.find("\n", index)
            if end < 0:
                return None
            index = end
            continue
        if char in "\"'":
            opener = char * 3 if text.startswith(char * 3, index) else char
            found = _STRINGS[opener].match(text, index)
            if found is None:  # an unterminated multi-line string
                return None
            index = found.end()
            continue
        if char in "[{":
            depth += 1
            if depth > max_depth:
                return text.count("\n", 0, index) + 1
        else:
            depth = max(depth - 1, 0)
        index += 1
    return None
