"""Bounded reading of config files: size before reading, nesting before parsing, clean errors.

tomllib parses arrays and inline tables recursively, so a file 10,000 levels deep used to end in
``RecursionError``; dotted keys parse iteratively but hand pydantic (and canonical JSON) a structure
just as deep. Both are refused up front with a :class:`ConfigError` naming the file and the limit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from crypto_analyzer.core.canonical_json import (
    MAX_NESTING,
    CanonicalJSONError,
    canonical_dumps,
    canonical_loads,
)
from crypto_analyzer.core.config_files import (
    MAX_CONFIG_BYTES,
    MAX_CONFIG_DEPTH,
    check_nesting,
    describe_value,
    parse_toml,
    read_config_file,
)
from crypto_analyzer.core.errors import ConfigError, ValidationError

DEEP = 10_000


def test_limits_are_generous_for_real_configs() -> None:
    assert MAX_CONFIG_BYTES == 1 << 20 and MAX_CONFIG_DEPTH >= 8


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_bytes(b"# " + b"x" * (MAX_CONFIG_BYTES + 10) + b"\n")
    with pytest.raises(ConfigError, match=r"big\.toml is 1,048,589 bytes; the limit is 1,048,576"):
        read_config_file(path, what=f"report config {path}")


def test_a_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_bytes(b"#" * (MAX_CONFIG_BYTES - 1) + b"\n")
    assert len(read_config_file(path, what="x")) == MAX_CONFIG_BYTES


def test_a_missing_or_undecodable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        read_config_file(tmp_path / "missing.toml", what="report config")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'hypothesis = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_config_file(bad, what="report config")


def test_the_error_class_can_be_chosen(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        read_config_file(tmp_path / "nope.toml", what="policy file", error=ValidationError)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a = " + "[" * DEEP + "]" * DEEP, "line 1"),
        ("a = " + "{b = " * DEEP + "1" + "}" * DEEP, "line 1"),
        ("x = 1\n\nh = [\n" + "[" * DEEP + "]" * DEEP + "]", "line 4"),
    ],
    ids=["arrays", "inline-tables", "later-line"],
)
def test_deep_brackets_are_refused_before_tomllib_recurses(text: str, where: str) -> None:
    limit = sys.getrecursionlimit()
    with pytest.raises(ConfigError, match=rf"deeper than {MAX_CONFIG_DEPTH} levels \({where}\)"):
        parse_toml(text, what="report config x.toml")
    assert sys.getrecursionlimit() == limit


@pytest.mark.parametrize(
    "text",
    ["[" + ".".join(["a"] * DEEP) + "]\nx = 1", ".".join(["a"] * DEEP) + " = 1"],
    ids=["table-header", "dotted-key"],
)
def test_deep_dotted_keys_are_refused_after_parsing(text: str) -> None:
    with pytest.raises(ConfigError, match=rf"key a\.a\.a.* nests deeper than {MAX_CONFIG_DEPTH}"):
        parse_toml(text, what="policy file p.toml")


def test_brackets_inside_strings_and_comments_do_not_count() -> None:
    noise = "[" * 100
    text = (
        f'a = "{noise}"\n'
        f"b = '{noise}'\n"
        f'c = """\n{noise}\n"""\n'
        f"d = '''{noise}'''\n"
        f"# {noise}\n"
        f'e = "quote \\" then {noise}"\n'
        'f = """two extra quotes"""""\n'
        'g = [[1, 2], [3]]  # a comment with a quote " and [[[\n'
    )
    parsed = parse_toml(text, what="x")
    assert parsed["a"] == noise and parsed["g"] == [[1, 2], [3]]
    assert parsed["f"] == 'two extra quotes""'


def test_a_string_that_closes_early_cannot_hide_real_nesting() -> None:
    text = 'a = "]]]]]]]]]]]]]]]]]]]]"\nb = ' + "[" * DEEP + "]" * DEEP
    with pytest.raises(ConfigError, match="deeper than"):
        parse_toml(text, what="x")


def test_nesting_at_the_limit_is_accepted_and_one_more_is_refused() -> None:
    at_limit = "[" * MAX_CONFIG_DEPTH + "]" * MAX_CONFIG_DEPTH
    assert parse_toml(f"a = {at_limit}", what="x")["a"]
    with pytest.raises(ConfigError, match="line 1"):
        parse_toml(f"a = [{at_limit}]", what="x")
    dotted = ".".join(["a"] * (MAX_CONFIG_DEPTH + 1))  # the last key names a value, not a table
    assert parse_toml(f"{dotted} = 1", what="x")["a"]
    with pytest.raises(ConfigError, match="nests deeper than"):
        parse_toml(f"{dotted}.a = 1", what="x")


def test_invalid_toml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="is not valid TOML"):
        parse_toml("a = [1,", what="report config r.toml")


def test_check_nesting_walks_without_recursion() -> None:
    value: object = 1
    for _ in range(DEEP):
        value = {"k": [value]}
    with pytest.raises(ConfigError, match="nests deeper than"):
        check_nesting(value, what="x")
    check_nesting({"a": {"b": [1, 2, {"c": 3}]}}, what="x")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("short", "'short'"),
        (10**9, "1000000000"),
        (list(range(1000)), "[0, 1, 2, 3, 4, 5, ...] (1,000 items)"),
    ],
    ids=["short", "number", "long-list"],
)
def test_describe_value_shortens(value: object, expected: str) -> None:
    assert describe_value(value) == expected


def test_describe_value_shortens_long_text_and_says_how_long() -> None:
    shown = describe_value("\x1b" + "x" * 20_000_000)
    assert shown.startswith("'\\x1bxxx") and shown.endswith("xxx' (20,000,001 characters)")
    assert len(shown) < 80


def test_describe_value_of_a_deep_structure_does_not_recurse() -> None:
    value: object = 1
    for _ in range(DEEP):
        value = [value]
    assert len(describe_value(value)) < 80


def test_canonical_dumps_refuses_deep_nesting_cleanly() -> None:
    value: object = 1
    for _ in range(DEEP):
        value = {"a": [value]}
    with pytest.raises(CanonicalJSONError, match=f"nests deeper than {MAX_NESTING} levels"):
        canonical_dumps(value)


def test_canonical_dumps_accepts_nesting_up_to_the_limit() -> None:
    value: object = 1
    for _ in range(MAX_NESTING):
        value = [value]
    assert canonical_dumps(value) == "[" * MAX_NESTING + "1" + "]" * MAX_NESTING
    with pytest.raises(CanonicalJSONError):
        canonical_dumps([value])


def test_canonical_loads_refuses_deep_nesting_cleanly() -> None:
    with pytest.raises(CanonicalJSONError, match="nests too deeply"):
        canonical_loads("[" * 200_000 + "]" * 200_000)
