"""Shared MetaData and column helpers for every table family.

All tables hang off one ``MetaData`` whose naming convention gives every constraint and index a
deterministic name, so migrations can refer to (and drop) them portably on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

__all__ = [
    "DEFAULT_TENANT",
    "FLOAT64",
    "INT64",
    "NAMING_CONVENTION",
    "TABLE_OPTIONS",
    "metadata",
    "status_check",
    "tenant_column",
    "text_enum_check",
]

DEFAULT_TENANT = "default"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

FLOAT64: sa.Double[float] = sa.Double().with_variant(sa.REAL(), "sqlite")
"""IEEE double everywhere; spelled REAL on SQLite because STRICT tables accept only core names."""

INT64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""64-bit integer (SQLite INTEGER is already 64-bit)."""

TABLE_OPTIONS: dict[str, Any] = {"sqlite_strict": True}
"""SQLite STRICT tables: a value of the wrong type is an error instead of a silent coercion, and
every column has one storage class, which the dataset identity's columnar reader relies on."""


def tenant_column() -> sa.Column[str]:
    """``tenant_id`` column carried by every table (default tenant when none is configured)."""
    return sa.Column("tenant_id", sa.Text(), nullable=False, server_default=DEFAULT_TENANT)


def text_enum_check(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    """CHECK that ``column`` holds exactly one of ``values`` (case-sensitive, no padding)."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=name)


def status_check(values: tuple[str, ...]) -> sa.CheckConstraint:
    """The usual ``status`` CHECK."""
    return text_enum_check("status", values, "status")
