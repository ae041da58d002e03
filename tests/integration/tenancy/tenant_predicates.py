"""Which tenant-scoped tables a SQL statement touches without a tenant predicate.

SQLite has no row-level security, so on SQLite the guarantee is the code: every statement that
reads or writes a tenant-scoped table must pin that table's ``tenant_id``. This is a small,
deliberately strict reader of the SQL SQLite actually executes (its trace callback, parameters
expanded): for every table reference (``FROM``/``JOIN``/``UPDATE``/``INTO``, with alias) it
demands either ``tenant_id`` in the column list of an INSERT, or an equality chain
``<ref>.tenant_id = <ref2>.tenant_id = … = 'value' | ? | IN (…)`` that ends at a value. A bare
``tenant_id = …`` counts for a statement touching one table reference. Anything it cannot
read — a new SQL shape — fails the test, so a reviewer looks at it.
"""

from __future__ import annotations

import re
from collections import defaultdict

__all__ = ["violations"]

_SKIP = re.compile(
    r"^\s*(PRAGMA|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|CREATE|DROP|ALTER|ANALYZE|VACUUM|--)",
    re.IGNORECASE,
)
_KEYWORDS = {
    "WHERE", "JOIN", "LEFT", "INNER", "CROSS", "OUTER", "ON", "SET", "ORDER", "GROUP", "LIMIT",
    "VALUES", "SELECT", "UNION", "HAVING", "AS", "USING", "NATURAL", "RETURNING", "DEFAULT",
    "WINDOW", "INDEXED", "NOT",
}  # fmt: skip
_NAME = r'"?(\w+)"?'
_REF = re.compile(
    rf"\b(FROM|JOIN|UPDATE|INTO)\s+(?:main\.)?{_NAME}(?:\s+(?:AS\s+)?{_NAME})?", re.IGNORECASE
)
_COMMA_REF = re.compile(rf",\s*(?:main\.)?{_NAME}(?:\s+(?:AS\s+)?{_NAME})?", re.IGNORECASE)
_VALUE = r"(?:\?|:\w+|'(?:[^']|'')*'|IN\s*\()"
_QUALIFIED = r'"?(\w+)"?\."?tenant_id"?'


def _references(sql: str, tables: frozenset[str]) -> dict[str, str]:
    """alias -> table for every reference to a tenant-scoped table."""
    found: dict[str, str] = {}
    for match in _REF.finditer(sql):
        table, alias = match.group(2), match.group(3)
        if table.lower() in tables:
            name = alias if alias and alias.upper() not in _KEYWORDS else table
            found[name.lower()] = table.lower()
        # comma-joined FROM lists: FROM a, b AS c
        if match.group(1).upper() == "FROM":
            rest = sql[match.end() :]
            for extra in _COMMA_REF.finditer(rest):
                if extra.start() != 0 and rest[: extra.start()].strip() != "":
                    break
                if extra.group(1).lower() in tables:
                    alias2 = extra.group(2)
                    name = alias2 if alias2 and alias2.upper() not in _KEYWORDS else extra.group(1)
                    found[name.lower()] = extra.group(1).lower()
                rest = rest[extra.end() :]
    return found


def _anchored(sql: str, refs: dict[str, str]) -> set[str]:
    links: dict[str, set[str]] = defaultdict(set)
    value = "<value>"
    for a, b in re.findall(rf"{_QUALIFIED}\s*=\s*{_QUALIFIED}", sql, re.IGNORECASE):
        links[a.lower()].add(b.lower())
        links[b.lower()].add(a.lower())
    for name in re.findall(rf"{_QUALIFIED}\s*(?:=\s*{_VALUE}|IN\s*\()", sql, re.IGNORECASE):
        links[name.lower()].add(value)
    for name in re.findall(rf"{_VALUE[3:-1]}\s*=\s*{_QUALIFIED}", sql, re.IGNORECASE):
        links[name.lower()].add(value)
    bare = re.search(rf"(?<![.\w\"])\"?tenant_id\"?\s*(?:=\s*{_VALUE}|IN\s*\()", sql, re.IGNORECASE)
    if bare and len(refs) == 1:
        links[next(iter(refs))].add(value)
    reached: set[str] = set()
    for start in refs:
        seen, todo = {start}, [start]
        while todo:
            node = todo.pop()
            for other in links.get(node, ()):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        if value in seen:
            reached.add(start)
    return reached


def violations(sql: str, tables: frozenset[str]) -> list[str]:
    """The tenant-scoped table references of ``sql`` that no tenant predicate pins."""
    if _SKIP.match(sql):
        return []
    text = " ".join(sql.split())
    refs = _references(text, tables)
    if not refs:
        return []
    insert = re.match(rf"\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+{_NAME}\s*\(([^)]*)\)", text, re.I)
    problems = []
    pinned = _anchored(text, refs)
    for alias, table in sorted(refs.items()):
        if insert and insert.group(1).lower() == alias:
            if "tenant_id" not in insert.group(2).replace('"', "").split(", ") and not re.search(
                r"\btenant_id\b", insert.group(2)
            ):
                problems.append(f"INSERT INTO {table} without tenant_id")
            continue
        if alias not in pinned:
            problems.append(f"{table} (as {alias}) without a tenant predicate")
    return problems
