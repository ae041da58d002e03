"""Migration runner and schema status. The only code path that runs DDL is :func:`upgrade`.

Reads call :func:`require_head` instead, which inspects ``alembic_version`` and refuses to run on a
database that is missing or behind — it never migrates on the side.

Every read command calls :func:`require_head`, and importing Alembic (with Mako and its DDL
dialects) costs a few hundred milliseconds. So the common case — one packaged head, and the
database at it — is decided from the migration files' ``revision``/``down_revision`` lines and one
``SELECT`` from ``alembic_version``; anything else (no schema, behind, several heads, a file in
another shape) takes the Alembic path, which also words the refusal. A test keeps the text scan
equal to Alembic's own answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crypto_analyzer.core.errors import SchemaNotReadyError

__all__ = [
    "SchemaStatus",
    "alembic_config",
    "current_revision",
    "head_revision",
    "packaged_heads",
    "require_head",
    "schema_drift",
    "schema_status",
    "upgrade",
]


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database stands relative to the migration history."""

    current: str | None
    head: str
    pending: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    def to_dict(self) -> dict[str, object]:
        return {
            "at_head": self.at_head,
            "current": self.current,
            "head": self.head,
            "pending": list(self.pending),
        }


if TYPE_CHECKING:
    from alembic.config import Config

_REVISION_LINE = re.compile(r"^revision(?:\s*:\s*str)?\s*=\s*[\"']([^\"']+)[\"']\s*$", re.M)
_DOWN_LINE = re.compile(r"^down_revision(?:\s*:[^=\n]+)?\s*=\s*(.+)$", re.M)


def alembic_config() -> Config:
    """Alembic config pointing at the packaged migrations (no alembic.ini involved)."""
    from alembic.config import Config

    location = resources.files("crypto_analyzer.db") / "migrations"
    config = Config()
    config.set_main_option("script_location", str(location))
    return config


def head_revision() -> str:
    """The newest revision in the packaged history."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the packaged migration history is empty")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None``: no schema); one read, no script parsing."""
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_status(engine: Engine) -> SchemaStatus:
    """Current and head revision plus the revisions an upgrade would apply. Runs no DDL."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    head = head_revision()
    current = current_revision(engine)
    pending = tuple(
        reversed([rev.revision for rev in script.iterate_revisions(head, current or "base")])
    )
    return SchemaStatus(current=current, head=head, pending=pending)


def packaged_heads() -> frozenset[str] | None:
    """The heads of the packaged history read from the files' text (no Alembic import).

    ``None`` when a migration file does not declare ``revision``/``down_revision`` on lines of
    the usual shape, in which case only Alembic can say.
    """
    folder = resources.files("crypto_analyzer.db") / "migrations" / "versions"
    revisions: set[str] = set()
    parents: set[str] = set()
    for item in folder.iterdir():
        if not item.name.endswith(".py") or item.name.startswith("_"):
            continue
        text = item.read_text(encoding="utf-8")
        revision = _REVISION_LINE.findall(text)
        down = _DOWN_LINE.findall(text)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        parents.update(re.findall(r"[\"']([^\"']+)[\"']", down[0]))
    heads = frozenset(revisions - parents)
    return heads or None


def _stored_revisions(engine: Engine) -> frozenset[str]:
    """The rows of ``alembic_version`` (empty when the table does not exist)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return frozenset()
        rows = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        return frozenset(str(row[0]) for row in rows)


def require_head(engine: Engine) -> SchemaStatus:
    """Raise :class:`SchemaNotReadyError` unless the schema is at head."""
    heads = packaged_heads()
    if heads is not None and len(heads) == 1 and _stored_revisions(engine) == heads:
        (head,) = heads
        return SchemaStatus(current=head, head=head, pending=())
    status = schema_status(engine)
    if status.current is None:
        raise SchemaNotReadyError(
            "database has no crypto-analyzer schema", "run `crypto-analyzer init`"
        )
    if not status.at_head:
        raise SchemaNotReadyError(
            f"database schema is at revision {status.current}, head is {status.head}",
            "run `crypto-analyzer db upgrade`",
        )
    return status


def upgrade(engine: Engine, revision: str = "head") -> SchemaStatus:
    """Apply pending revisions. Idempotent: at head it changes nothing."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return schema_status(engine)


def schema_drift(engine: Engine) -> list[str]:
    """Differences between the migrated database and ``db.schema`` (empty when in step).

    This is ``alembic check`` as a function: a table, column, index or type present on one side
    only means the schema modules and the migration history disagree.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from crypto_analyzer.db.schema import metadata

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, metadata)
    return [_describe_diff(diff) for diff in diffs]


def _describe_diff(diff: object) -> str:
    if isinstance(diff, tuple) and diff:
        kind = diff[0]
        if isinstance(kind, str):
            details = [str(getattr(part, "name", part)) for part in diff[1:]]
            return f"{kind}: {', '.join(details)}"
    if isinstance(diff, list):
        return "; ".join(_describe_diff(item) for item in diff)
    return str(diff)
