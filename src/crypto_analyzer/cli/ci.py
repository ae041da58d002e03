"""``crypto-analyzer ci summarize | promote | notify | bundle``: a run as a CI job sees it.

``summarize`` writes JUnit XML (one test case per policy rule per candidate) and prints a Markdown
summary; with ``--fail-on-deny`` the exit code is 1 when some candidate's latest decision denied.
``promote`` evaluates through the governance service as the CI job's principal
(``CRYPTO_ANALYZER_TOKEN``) under the policy with signatures required, recording the CI run URL.
``notify`` posts the summary to a webhook, signed with HMAC-SHA256
(``CRYPTO_ANALYZER_WEBHOOK_SECRET``); ``bundle`` packs the run's artifacts, envelopes and a
manifest into one archive for upload. See docs/ci.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.core.settings import WEBHOOK_SECRET_VARIABLE, principal_token, webhook_secret
from crypto_analyzer.pipeline.ci import (
    bundle_run,
    ci_promote,
    junit_xml,
    markdown_summary,
    post_webhook,
    summarize_run,
)

__all__ = ["app"]

app = typer.Typer(
    name="ci",
    help="CI integration: summarize (JUnit + Markdown), promote, notify (webhook), bundle.",
    no_args_is_help=True,
)

RunArg = Annotated[str, typer.Argument(help="Run instance id (or a unique prefix).")]


@app.command("summarize")
@command_boundary
def summarize_command(
    run: RunArg,
    *,
    junit: Annotated[Path, typer.Option("--junit", help="Where to write the JUnit XML.")] = Path(
        "crypto-analyzer-junit.xml"
    ),
    markdown: Annotated[
        Path | None,
        typer.Option(
            "--markdown",
            help="Also write the Markdown here (e.g. $GITHUB_STEP_SUMMARY).",
            show_default=False,
        ),
    ] = None,
    fail_on_deny: Annotated[
        bool, typer.Option("--fail-on-deny", help="Exit 1 when a candidate's decision denied.")
    ] = False,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """JUnit XML (one case per policy rule per candidate) and a Markdown summary of a run."""
    summary = summarize_run(resolve_settings(db, tenant), run)
    junit.write_bytes(junit_xml(summary))
    text = markdown_summary(summary)
    if markdown is not None:
        with markdown.open("a", encoding="utf-8") as handle:
            handle.write(text)
    if json:
        emit_json(summary.to_dict())
    else:
        stdout.out(text.rstrip("\n"), highlight=False)
    stderr.print(f"wrote {printable(str(junit))}", highlight=False)
    if fail_on_deny and summary.denied:
        raise typer.Exit(code=1)


@app.command("promote")
@command_boundary
def promote_command(
    candidate_id: Annotated[str, typer.Argument(help="Candidate id (or a unique prefix).")],
    *,
    ci_run_url: Annotated[
        str, typer.Option("--ci-run-url", help="URL of the CI run; recorded on the event.")
    ],
    to: Annotated[str, typer.Option("--to", help="Level: candidate or accepted.")] = "candidate",
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="Policy file (default: the packaged default); signatures "
            "are required at every level whatever it says.",
            show_default=False,
        ),
    ] = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Evaluate as the CI principal, signed attestation required; exit 1 if denied."""
    settings = resolve_settings(db, tenant)
    announce(settings)
    outcome = ci_promote(
        settings, candidate_id, target=to, ci_run_url=ci_run_url, token=principal_token(),
        policy_path=policy,
    )  # fmt: skip
    if json:
        emit_json(outcome.to_dict())
    else:
        verdict = "passed" if outcome.passed else "denied"
        stdout.print(
            f"{printable(outcome.candidate.candidate_id)}: {printable(to)} {verdict} "
            f"(report {printable(outcome.report.report_id)}, status "
            f"{printable(outcome.candidate.status)})",
            highlight=False,
        )
        for reason in outcome.report.reasons:
            stdout.print(
                f"  {printable(reason.get('rule'))}: {printable(reason.get('message'))}",
                highlight=False,
            )
    if not outcome.passed:
        raise typer.Exit(code=1)


@app.command("notify")
@command_boundary
def notify_command(
    run: RunArg,
    *,
    webhook: Annotated[str, typer.Option("--webhook", help="http(s) URL to POST the summary to.")],
    attempts: Annotated[int, typer.Option("--attempts", help="Attempts in all.", min=1)] = 4,
    backoff: Annotated[
        float, typer.Option("--backoff", help="Seconds before the first retry; doubles.", min=0.0)
    ] = 0.5,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
) -> None:
    """POST the run summary as JSON with an HMAC-SHA256 signature header; retries with backoff."""
    secret = webhook_secret()
    if secret is None:
        raise ConfigError(
            f"{WEBHOOK_SECRET_VARIABLE} is not set; webhook bodies are always signed",
            "set it to the secret the receiver shares (a CI secret)",
        )
    summary = summarize_run(resolve_settings(db, tenant), run)
    result = post_webhook(
        webhook, canonical_bytes(summary.to_dict()), secret, attempts=attempts, backoff=backoff
    )
    stderr.print(
        f"delivered to {printable(result.url)}: HTTP {result.status_code} after "
        f"{result.attempts} attempt(s)",
        highlight=False,
    )


@app.command("bundle")
@command_boundary
def bundle_command(
    run: RunArg,
    *,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Archive path (default ./run-<id>.tar.gz); never overwritten.",
            show_default=False,
        ),
    ] = None,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
) -> None:
    """Pack the run's artifacts, envelopes, summary and a manifest into one .tar.gz."""
    settings = resolve_settings(db, tenant)
    target = out if out is not None else Path(f"run-{run}.tar.gz")
    result = bundle_run(settings, run, target)
    if json:
        emit_json({"envelopes": result.envelopes, "files": result.files, "path": str(result.path),
                   "sha256": result.sha256})  # fmt: skip
        return
    stdout.print(str(result.path), highlight=False, markup=False)
    stderr.print(
        f"{result.files} files ({result.envelopes} envelopes), sha256 {result.sha256[:16]}…",
        highlight=False,
    )
