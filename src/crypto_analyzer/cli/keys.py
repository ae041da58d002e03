"""``crypto-analyzer keys init-service``: create the service key that keys every governed record.

The key is a secret the database never holds (``core.service_key``). Create it on the machine the
service runs on, keep it out of the database's backups and out of reach of database operators, and
point ``CRYPTO_ANALYZER_SERVICE_KEY_FILE`` at it. Only a single-user SQLite workspace may keep it in
the default place next to the database file — which protects nothing against someone who can copy
that folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crypto_analyzer.cli.context import (
    command_boundary,
    emit_json,
    resolve_settings,
    stderr,
    stdout,
)
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.governance import init_service_key

__all__ = ["app"]

app = typer.Typer(
    name="keys",
    help="Service key: the secret, held outside the database, that keys governed records.",
    no_args_is_help=True,
)


@app.command("init-service")
@command_boundary
def init_service_command(
    *,
    path: Annotated[
        Path | None,
        typer.Option(
            "--path",
            help="Where to create the key (default: $CRYPTO_ANALYZER_SERVICE_KEY_FILE, else next "
            "to a SQLite database).",
            show_default=False,
        ),
    ] = None,
    db: DbUrlOpt = None,
    json: JsonOpt = False,
) -> None:
    """Create a new service key (32 random bytes, mode 0600) and print its key id. Never
    overwrites an existing file."""
    key = init_service_key(resolve_settings(db), path)
    if json:
        emit_json({"key_id": key.key_id, "path": str(key.path)})
        return
    stdout.print(key.key_id, highlight=False)
    stderr.print(
        f"created service key {printable(str(key.path))} (mode 0600). Keep it on the service host, "
        "never next to the database in a team deployment, and set "
        "CRYPTO_ANALYZER_SERVICE_KEY_FILE to it.",
        highlight=False,
    )
