"""``crypto-analyzer attest verify FILE``: check an envelope without any database.

For third parties: given the envelope file (``envelopes/….dsse.json`` from a run or a ``ci bundle``
archive) and the signer's public key (``keys export-public``), it checks the DSSE signature over
the pre-authentication encoding, the in-toto Statement, and — with ``--artifact`` — that the
subject digest is the artifact's SHA-256 and the payload is exactly the statement about it. Exit 0
only when verified; 1 with the findings otherwise; 2 for unreadable input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crypto_analyzer.attest.keys import load_public_key
from crypto_analyzer.attest.verify import verify_offline
from crypto_analyzer.cli.context import command_boundary, emit_json, stderr, stdout
from crypto_analyzer.cli.options import JsonOpt
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.core.clock import wall_now
from crypto_analyzer.core.errors import ValidationError

__all__ = ["app"]

app = typer.Typer(
    name="attest",
    help="Signed attestations (DSSE envelopes over in-toto Statements): verify.",
    no_args_is_help=True,
)

_MAX_INPUT = 64 * 1024 * 1024


def _read(path: Path, what: str) -> bytes:
    try:
        if path.stat().st_size > _MAX_INPUT:
            raise ValidationError(f"{what} {path} is larger than {_MAX_INPUT:,} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {what} {path}: {exc.strerror}") from None


@app.command("verify")
@command_boundary
def verify_command(
    file: Annotated[Path, typer.Argument(help="The DSSE envelope (JSON).")],
    *,
    key: Annotated[
        list[Path] | None,
        typer.Option(
            "--key", help="Trusted public key: PEM or 64 hex (repeatable).", show_default=False
        ),
    ] = None,
    artifact: Annotated[
        Path | None,
        typer.Option(
            "--artifact",
            help="The subject artifact: check its digest and the payload.",
            show_default=False,
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Verify an envelope offline; exit 0 only when a trusted key's signature verifies."""
    keys = tuple(load_public_key(_read(path, "key"), source=str(path)) for path in key or [])
    check = verify_offline(
        _read(file, "envelope"),
        name=file.name,
        public_keys=keys,
        at=wall_now(),
        artifact=None if artifact is None else _read(artifact, "artifact"),
    )
    if json:
        emit_json(check.to_dict())
    elif check.verified:
        subject = check.statement
        about = "" if subject is None else f" about {printable(subject.subject_name)}"
        stdout.print(f"verified{about}: signed by key {check.key_id}", highlight=False)
    else:
        for finding in check.problems:
            stdout.print(f"{finding.code}: {printable(finding.message)}", highlight=False)
        if not keys:
            stderr.print("no --key given: nothing can be trusted", highlight=False)
    if not check.verified:
        raise typer.Exit(code=1)
