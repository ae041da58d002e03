"""Migration runner and schema status. The only code path that runs DDL is :func:`upgrade`.

Reads call :func:`require_head` instead, which inspects ``alembic_version`` and refuses to run on a
database that is missing or behind — it never migrates on the side.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from crypto_analyzer.core.errors import SchemaNotReadyError

__all__ = [
    "SchemaStatus",
    "alembic_config",
    "current_revision",
    "head_revision",
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


def alembic_config() -> Config:
    """Alembic config pointing at the packaged migrations (no alembic.ini involved)."""
    location = resources.files("crypto_analyzer.db") / "migrations"
    config = Config()
    config.set_main_option("script_location", str(location))
    return config


def head_revision() -> str:
    """The newest revision in the packaged history."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the packaged migration history is empty")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None``: no schema); one read, no script parsing."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_status(engine: Engine) -> SchemaStatus:
    """Current and head revision plus the revisions an upgrade would apply. Runs no DDL."""
    script = ScriptDirectory.from_config(alembic_config())
    head = head_revision()
    current = current_revision(engine)
    pending = tuple(
        reversed([rev.revision for rev in script.iterate_revisions(head, current or "base")])
    )
    return SchemaStatus(current=current, head=head, pending=pending)


def require_head(engine: Engine) -> SchemaStatus:
    """Raise :class:`SchemaNotReadyError` unless the schema is at head."""
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
