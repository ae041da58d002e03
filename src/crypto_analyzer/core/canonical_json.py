"""Canonical JSON: the only serialisation the project hashes.

Identities (dataset ids, run keys, evidence digests, event hashes) are SHA-256 digests of JSON
text, so
the text must be byte-stable across runs, machines and Python versions. The rules follow RFC 8785
(JCS)
where it matters for our data: object keys sorted by code point, no insignificant whitespace, UTF-8
output, floats in the shortest form that round-trips, integral floats written without a fraction
(``1.0`` -> ``1``, as ECMAScript does), and NaN/Infinity refused because JSON cannot carry them.
Values nested deeper than :data:`MAX_NESTING` are refused with a :class:`CanonicalJSONError` rather
than running into Python's recursion limit; no identity the project computes comes close.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "MAX_NESTING",
    "CanonicalJSONError",
    "canonical_bytes",
    "canonical_dumps",
    "canonical_loads",
]

MAX_NESTING = 128
"""Deepest list/object nesting encoded (two frames per level stay well inside the default limit)."""


class CanonicalJSONError(ValueError):
    """A value cannot be represented in canonical JSON (NaN, Infinity, unsupported type, bad
    key)."""


def canonical_dumps(value: Any) -> str:
    """Serialise ``value`` to canonical JSON text.

    Accepts dicts with string keys, lists/tuples, str, int, float, bool and None. Anything else
    (sets, bytes, numpy scalars, datetimes) is refused so that a caller never hashes a lossy or
    platform-dependent repr by accident; convert it explicitly first.
    """
    parts: list[str] = []
    _encode(value, parts, "$", 0)
    return "".join(parts)


def canonical_bytes(value: Any) -> bytes:
    """Canonical JSON encoded as UTF-8: the exact bytes that identities hash."""
    return canonical_dumps(value).encode("utf-8")


def _refuse_constant(name: str) -> Any:
    raise CanonicalJSONError(f"JSON literal {name} is not allowed in canonical JSON")


# One decoder for every call: ``json.loads`` with an option builds a new decoder each time, which
# was a measurable share of rendering a page of runs (two documents per row).
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def canonical_loads(text: str | bytes) -> Any:
    """Parse JSON, refusing the NaN/Infinity literals Python's parser would otherwise accept."""
    if isinstance(text, (bytes, bytearray)):  # as json.loads: UTF-8/16/32 detected
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    if not isinstance(text, str):
        raise TypeError(f"the JSON object must be str or bytes, not {type(text).__name__}")
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise CanonicalJSONError(
            "JSON text nests too deeply for the parser; refusing it as malformed input"
        ) from None


def _encode(value: Any, out: list[str], path: str, depth: int) -> None:
    # bool before int: bool is a subclass of int.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(_format_float(value, path))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Mapping):
        _check_depth(depth, path)
        _encode_mapping(value, out, path, depth + 1)
    elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray, memoryview)):
        _check_depth(depth, path)
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out, f"{path}[{index}]", depth + 1)
        out.append("]")
    else:
        raise CanonicalJSONError(
            f"value at {path} has type {type(value).__name__}, which canonical JSON does not "
            "accept; convert it to str, int, float, bool, None, list or dict first"
        )


def _check_depth(depth: int, path: str) -> None:
    if depth >= MAX_NESTING:
        shown = path if len(path) <= 80 else path[:77] + "..."
        raise CanonicalJSONError(
            f"value at {shown} nests deeper than {MAX_NESTING} levels; canonical JSON refuses it "
            "— flatten the structure before hashing"
        )


def _encode_mapping(value: Mapping[Any, Any], out: list[str], path: str, depth: int) -> None:
    for key in value:
        if not isinstance(key, str):
            raise CanonicalJSONError(
                f"object key {key!r} at {path} is a {type(key).__name__}; keys must be strings"
            )
    out.append("{")
    # RFC 8785 sorts by UTF-16 code units; for keys without surrogate pairs (all ours) this equals
    # sorting by code point, which is what sorted() does on str.
    for index, key in enumerate(sorted(value)):
        if index:
            out.append(",")
        out.append(json.dumps(key, ensure_ascii=False))
        out.append(":")
        _encode(value[key], out, f"{path}.{key}", depth)
    out.append("}")


def _format_float(value: float, path: str) -> str:
    if math.isnan(value) or math.isinf(value):
        raise CanonicalJSONError(
            f"value at {path} is {value!r}; canonical JSON refuses NaN and Infinity — "
            "replace it with null or a finite number before hashing"
        )
    if value == 0.0:
        return "0"  # RFC 8785: -0 serialises as 0.
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)  # Python's repr is the shortest round-trip form.
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        text = f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
    return text
