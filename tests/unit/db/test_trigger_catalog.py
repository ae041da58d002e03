"""Trigger digests ignore layout and comments but nothing that changes meaning; the manifest
renders as stable, ruff-formatted Python."""

from __future__ import annotations

import ast

import pytest

from crypto_analyzer.db.trigger_catalog import (
    CatalogSnapshot,
    FunctionState,
    TriggerState,
    normalise_sql,
    render_manifest,
)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("CREATE TRIGGER t\n  BEFORE UPDATE ON x\nBEGIN SELECT 1; END",
         "CREATE TRIGGER t BEFORE UPDATE ON x BEGIN SELECT 1; END"),
        ("BEGIN /* created by revision 0009 */ SELECT 1; END", "BEGIN SELECT 1; END"),
        ("SELECT 1; -- note\nEND", "SELECT 1; END"),
    ],
)  # fmt: skip
def test_layout_and_comments_do_not_count(left: str, right: str) -> None:
    assert normalise_sql(left) == normalise_sql(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("WHERE s IN ('rejected', 'revoked')", "WHERE s IN ('rejected ', 'revoked')"),
        ("RAISE(ABORT, 'a  b')", "RAISE(ABORT, 'a b')"),
        ("SELECT '/* not a comment */'", "SELECT ''"),
        ('SELECT "odd  name"', 'SELECT "odd name"'),
        ("a-b", "a - b"),
    ],
)
def test_anything_inside_quotes_or_tokens_counts(left: str, right: str) -> None:
    assert normalise_sql(left) != normalise_sql(right)


def test_the_manifest_renders_sorted_and_parses_back() -> None:
    snapshot = CatalogSnapshot(
        "postgresql",
        (
            TriggerState("trg_b", "t", "d" * 64, "always", "ca_f"),
            TriggerState("trg_a", "t", "e" * 64, "origin", "ca_f"),
        ),
        (FunctionState("ca_f", "f" * 64),),
    )
    text = render_manifest({"postgresql": snapshot, "sqlite": CatalogSnapshot("sqlite", (), ())})
    tree = ast.parse(text)
    values = {
        node.target.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    assert list(values["TRIGGERS"]["postgresql"]) == ["trg_a", "trg_b"]
    assert values["TRIGGERS"]["postgresql"]["trg_b"] == {
        "digest": "d" * 64,
        "enabled": "always",
        "function": "ca_f",
        "table": "t",
    }
    assert values["FUNCTIONS"] == {"postgresql": {"ca_f": {"digest": "f" * 64}}, "sqlite": {}}
    assert max(len(line) for line in text.splitlines()) <= 100
