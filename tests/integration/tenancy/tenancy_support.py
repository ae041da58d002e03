"""Helpers shared by the tenancy suites (a module, so tests never import ``conftest``)."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["as_role"]


def as_role(url: str, role: str) -> str:
    """``url`` with its user replaced by ``role`` (the test cluster trusts local logins)."""
    return sa.make_url(url).set(username=role, password=None).render_as_string(hide_password=False)
