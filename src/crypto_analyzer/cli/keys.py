"""``crypto-analyzer keys``: the service key, signing keys, and API keys.

* ``init-service`` creates the service key that keys every governed record. It is a secret the
  database never holds (``core.service_key``): create it on the machine the service runs on and
  point ``CRYPTO_ANALYZER_SERVICE_KEY_FILE`` at it.
* ``generate`` creates an Ed25519 signing key (private key in a 0600 file, never in the database)
  and registers its public half in ``signing_keys``; ``export-public`` prints the public key for
  third parties (``attest verify --key``).
* ``list`` and ``revoke`` cover signing keys *and* API keys. The id says which: a signing key id is
  64 lowercase hex characters (SHA-256 of the public key), an API key id starts with ``key_``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.engine import Engine

from crypto_analyzer.attest.keys import (
    SigningKey,
    configured_signing_key,
    create_key_file,
    load_key_file,
)
from crypto_analyzer.cli.context import (
    announce,
    command_boundary,
    emit_json,
    resolve_settings,
    stderr,
    stdout,
)
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt, TenantOpt
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.core.settings import Settings, parse_fixed_time, principal_token
from crypto_analyzer.db.migrate import require_head
from crypto_analyzer.db.workspace import open_engine
from crypto_analyzer.governance import init_service_key
from crypto_analyzer.governance.signing_keys import (
    ID_KINDS_HELP,
    list_all_keys,
    public_key_of,
    register_signing_key,
    revoke_any_key,
)

__all__ = ["app"]

app = typer.Typer(
    name="keys",
    help="Keys: the service key (init-service), signing keys (generate, export-public), and "
    f"list/revoke for signing and API keys. {ID_KINDS_HELP}",
    no_args_is_help=True,
)

KeyIdArg = Annotated[str, typer.Argument(help=f"Key id. {ID_KINDS_HELP}")]


def _instant(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_fixed_time(value)
    except ValueError as exc:
        raise ValidationError(f"{option}: {exc}") from None


@contextmanager
def _engine(settings: Settings, *, read_only: bool) -> Iterator[Engine]:
    with open_engine(settings, read_only=read_only) as engine:
        require_head(engine)
        yield engine


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


def _source_key(
    out: Path | None, private_key: Path | None, from_env: bool, name: str
) -> SigningKey:
    if sum((out is not None, private_key is not None, from_env)) > 1:
        raise ValidationError("pass at most one of --out, --private-key, --from-env")
    if private_key is not None:
        return load_key_file(private_key)
    if from_env:
        key = configured_signing_key()
        if key is None:
            raise ValidationError(
                "--from-env: neither CRYPTO_ANALYZER_SIGNING_KEY_FILE nor "
                "CRYPTO_ANALYZER_SIGNING_KEY is set"
            )
        return key
    return create_key_file(out if out is not None else Path(f"{name}.ed25519.pem"))


@app.command("generate")
@command_boundary
def generate_command(
    *,
    name: Annotated[str, typer.Option("--name", help="Name of the key (recorded as its owner).")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="New private key file (default ./NAME.ed25519.pem, mode 0600).",
            show_default=False,
        ),
    ] = None,
    private_key: Annotated[
        Path | None,
        typer.Option(
            "--private-key",
            help="Register an existing private key file instead.",
            show_default=False,
        ),
    ] = None,
    from_env: Annotated[
        bool,
        typer.Option(
            "--from-env",
            help="Register the key named by CRYPTO_ANALYZER_SIGNING_KEY_FILE"
            " or given in CRYPTO_ANALYZER_SIGNING_KEY.",
        ),
    ] = False,
    valid_from: Annotated[
        str | None,
        typer.Option("--valid-from", help="ISO-8601 instant (default: now).", show_default=False),
    ] = None,
    valid_until: Annotated[
        str | None,
        typer.Option(
            "--valid-until",
            help="ISO-8601 instant (exclusive; default: no end).",
            show_default=False,
        ),
    ] = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Create an Ed25519 signing key and register its public half; prints the key id.

    The private key goes to a 0600 file and never into the database. Once the tenant has
    principals, registering needs an admin token (CRYPTO_ANALYZER_TOKEN).
    """
    settings = resolve_settings(db, tenant)
    announce(settings)
    start, end = _instant(valid_from, "--valid-from"), _instant(valid_until, "--valid-until")
    with _engine(settings, read_only=False) as engine:
        key = _source_key(out, private_key, from_env, name)
        record = register_signing_key(
            engine, settings.tenant, key.public, owner=name, valid_from=start, valid_until=end,
            token=principal_token(),
        )  # fmt: skip
    if json:
        emit_json({**record.to_dict(), "private_key": key.source})
        return
    stdout.print(record.key_id, highlight=False)
    stderr.print(
        f"signing key {record.key_id[:16]}… ({printable(name)}) registered, valid from "
        f"{record.valid_from} until {record.valid_until or 'revoked'}; private key "
        f"{printable(key.source)}. Sign reports with CRYPTO_ANALYZER_SIGNING_KEY_FILE set to it.",
        highlight=False,
        markup=False,
    )


@app.command("list")
@command_boundary
def list_command(*, db: DbUrlOpt = None, tenant: TenantOpt = None, json: JsonOpt = False) -> None:
    """Signing keys and API keys of the tenant (ids, owners, validity, revocation; no secrets)."""
    settings = resolve_settings(db, tenant)
    with _engine(settings, read_only=True) as engine:
        rows = list_all_keys(engine, settings.tenant)
    if json:
        emit_json([row.to_dict() for row in rows])
        return
    table = Table("kind", "owner", "valid from", "valid until", "revoked")
    table.add_column("key id", overflow="fold")
    for row in rows:
        revoked = (
            "" if row.revoked_at is None else f"{row.revoked_at} {row.revocation_reason or ''}"
        )
        table.add_row(
            row.kind, printable(row.owner), row.valid_from or "", row.valid_until or "",
            printable(revoked.strip()), printable(row.key_id),
        )  # fmt: skip
    stderr.print(f"{len(rows)} key(s)", highlight=False)
    stdout.print(table)


@app.command("revoke")
@command_boundary
def revoke_command(
    key_id: KeyIdArg,
    *,
    reason: Annotated[str, typer.Option("--reason", help="Why; recorded with the revocation.")],
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Signing keys: revoked from this ISO-8601 instant (default now;"
            " evaluations before it stand).",
            show_default=False,
        ),
    ] = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Revoke a signing key or an API key (final); admin token once principals exist."""
    settings = resolve_settings(db, tenant)
    announce(settings)
    with _engine(settings, read_only=False) as engine:
        row = revoke_any_key(
            engine, settings.tenant, key_id, reason=reason, at=_instant(at, "--at"),
            token=principal_token(),
        )  # fmt: skip
    if json:
        emit_json(row.to_dict())
        return
    stdout.print(
        f"revoked {row.kind} key {printable(row.key_id)} at {row.revoked_at}", highlight=False
    )


@app.command("export-public")
@command_boundary
def export_public_command(
    key_id: Annotated[
        str | None, typer.Argument(help="Signing key id (64 hex).", show_default=False)
    ] = None,
    *,
    private_key: Annotated[
        Path | None,
        typer.Option(
            "--private-key",
            help="Derive it from this private key file instead (no database).",
            show_default=False,
        ),
    ] = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
) -> None:
    """Print a signing key's public key as PEM (for `attest verify --key`)."""
    if (key_id is None) == (private_key is None):
        raise ValidationError("pass a KEY_ID or --private-key PATH (exactly one)")
    if private_key is not None:
        pem = load_key_file(private_key).public.pem()
    else:
        assert key_id is not None
        settings = resolve_settings(db, tenant)
        with _engine(settings, read_only=True) as engine:
            pem = public_key_of(engine, settings.tenant, key_id).public.pem()
    stdout.out(pem.rstrip("\n"), highlight=False)
