"""Root command: global options and the table of commands, each imported on first use.

Every command lives in its own module; this one only names them (:class:`LazyCommand`: name,
``module:attribute`` and the first paragraph of its help) so that ``--version``, ``--help`` and
shell start-up do not import pandas, scipy, matplotlib, ccxt or SQLAlchemy. To add a command, add
one line to :data:`COMMANDS`; ``tests/unit/cli/test_cli_lazy.py`` checks that the help written
here is the command's own.
"""

from __future__ import annotations

from typing import Annotated

import typer

from crypto_analyzer.cli.lazy import LazyCommand, LazyGroup
from crypto_analyzer.cli.options import DbUrlOpt, TenantOpt
from crypto_analyzer.cli.state import CliState, set_state
from crypto_analyzer.core.versions import ENGINE_VERSION

__all__ = ["COMMANDS", "app", "main"]

_CLI = "crypto_analyzer.cli"

COMMANDS: tuple[LazyCommand, ...] = (
    LazyCommand("db", f"{_CLI}.db:app", "Database schema: upgrade, status, check."),
    LazyCommand(
        "ingest", f"{_CLI}.ingest:app", "Bring market data in: exchanges, DEX, files, synthetic."
    ),
    LazyCommand("providers", f"{_CLI}.providers:app", "Market-data providers and their health."),
    LazyCommand(
        "materialize",
        f"{_CLI}.materialize:app",
        "Build derived tables: research-grid bars and factor runs.",
    ),
    LazyCommand(
        "promotion",
        f"{_CLI}.promotion:app",
        "Promotion candidates: create, evaluate, reject, revoke, list, show.",
    ),
    LazyCommand(
        "principals",
        f"{_CLI}.principals:app",
        "Principals and their tokens: add, list, disable (admin).",
    ),
    LazyCommand(
        "audit", f"{_CLI}.audit:app", "Audit the governance record: trace a candidate, verify."
    ),
    LazyCommand(
        "keys",
        f"{_CLI}.api_keys:app",
        "Keys: the service key (init-service), signing keys (generate, export-public), and "
        "list/revoke for signing and API keys. Signing key ids are 64 lowercase hex characters "
        "(SHA-256 of the public key); API key ids start with key_.",
    ),  # the api_keys module adds `keys create` to the keys group
    LazyCommand("runs", f"{_CLI}.runs:app", "Experiment registry: list, show and diff runs."),
    LazyCommand(
        "stats", f"{_CLI}.stats:app", "Statistical procedures: calibration of size and power."
    ),
    LazyCommand("tenants", f"{_CLI}.tenants:app", "The tenants registry: list, create (admin)."),
    LazyCommand(
        "attest",
        f"{_CLI}.attest:app",
        "Signed attestations (DSSE envelopes over in-toto Statements): verify.",
    ),
    LazyCommand(
        "ci",
        f"{_CLI}.ci:app",
        "CI integration: summarize (JUnit + Markdown), promote, notify (webhook), bundle.",
    ),
    LazyCommand(
        "report",
        f"{_CLI}.report:report_command",
        "Run signals → walk-forward → OOS IC, portfolios, family statistics → bundles and report.",
    ),
    LazyCommand(
        "serve",
        f"{_CLI}.serve:serve_command",
        "Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs).",
    ),
    LazyCommand(
        "reportv2",
        f"{_CLI}.report:report_command",
        "Run signals → walk-forward → OOS IC, portfolios, family statistics → bundles and report.",
        hidden=True,
    ),
    LazyCommand(
        "reproduce",
        f"{_CLI}.reproduce:reproduce_command",
        "Re-execute a candidate's (or run's) report from the audit trail in a scratch workspace "
        "and\ncompare every artifact with its recorded SHA-256; records a ``reproduced`` event.",
    ),
    LazyCommand(
        "sweep",
        f"{_CLI}.sweep:sweep_command",
        "Evaluate a grid of hypotheses with the report's walk-forward; record every trial.",
    ),
    LazyCommand(
        "init",
        f"{_CLI}.workspace:init_command",
        "Create the database (if needed), migrate it to head and register the tenant's mode.",
    ),
    LazyCommand(
        "doctor",
        f"{_CLI}.workspace:doctor_command",
        "Check environment, database, schema and artifact store (read-only). Exit 1 on any "
        "failure.",
    ),
    LazyCommand(
        "check-dataset",
        f"{_CLI}.workspace:check_dataset_command",
        "Print the dataset id of a table scope: id, mode, watermark, per-table counts and digests.",
    ),
    LazyCommand(
        "demo",
        f"{_CLI}.demo:demo_command",
        "Run the main job end to end: data → report → candidates → promotion → audit.",
    ),
)


class RootGroup(LazyGroup):
    """The ``crypto-analyzer`` group: the commands of :data:`COMMANDS`, imported on first use."""

    lazy_commands = COMMANDS


app = typer.Typer(
    name="crypto-analyzer",
    cls=RootGroup,
    help="Research validation control plane for crypto quant research.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crypto-analyzer {ENGINE_VERSION}")
        raise typer.Exit()


@app.callback()
def root(
    *,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks for errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options apply to every command; a command's own --db/--tenant wins."""
    set_state(CliState(db=db, tenant=tenant, verbose=verbose))


def main() -> None:
    """Console-script and ``python -m crypto_analyzer`` entry point."""
    app()
