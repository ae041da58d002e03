"""``crypto-analyzer sweep``: a parameter search in-process or on Dask, all trials in the ledger."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from crypto_analyzer.cli.context import (
    command_boundary,
    emit_json,
    resolve_settings,
    stderr,
    stdout,
)
from crypto_analyzer.cli.options import DbUrlOpt, JsonOpt, TenantOpt
from crypto_analyzer.cli.safe_text import printable
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.governance.outcomes import check_actor
from crypto_analyzer.pipeline.sweep import (
    SweepProgress,
    SweepResult,
    load_sweep_config,
    make_executor,
    run_sweep,
)

__all__ = ["sweep_command"]


class _TrialsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("– trials/s" if speed is None else f"{speed:,.1f} trials/s")


class _Bar(SweepProgress):
    """A rich progress bar on stderr: trials done, trials/s, ETA; silent when ``quiet``."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.progress = Progress(
            TextColumn("sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            _TrialsPerSecond(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=stderr,
            disable=quiet or not stderr.is_terminal,
        )
        self.task: TaskID | None = None

    def started(self, run_instance_id: str, total: int, done: int, executor: str) -> None:
        if not self.quiet:
            stderr.print(
                f"sweep {printable(run_instance_id)}: {total:,} trials on {printable(executor)}"
                + (f", {done:,} from checkpoints" if done else ""),
                highlight=False,
            )
        self.progress.start()
        self.task = self.progress.add_task("sweep", total=total)

    def chunk_done(self, n_trials: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n_trials)

    def step(self, message: str) -> None:
        if not self.quiet and not message.startswith("evaluating"):
            self.progress.console.print(f"sweep: {printable(message)}", highlight=False)

    def dashboard(self, link: str) -> None:
        if not self.quiet:
            stderr.print(f"Dask dashboard: {printable(link)}", highlight=False)

    def stop(self) -> None:
        self.progress.stop()


def _fmt(value: float | None, digits: int = 3) -> str:
    return (
        "—"
        if value is None
        else f"{value:.{digits}g}"
        if abs(value) < 1e-3
        else f"{value:.{digits}f}"
    )


def _render(result: SweepResult) -> None:
    family = result.family.to_dict()
    table = Table(title=f"sweep {printable(result.run_instance_id)} — best trials by HAC t")
    for column in ("trial", "params", "h", "universe", "cost", "mean IC", "HAC t", "RW p", "DSR"):
        left = column in ("trial", "params")
        table.add_column(column, justify="left" if left else "right", overflow="fold")
    for row in result.best():
        params = ", ".join(f"{k}={v}" for k, v in sorted(row["params"].items()))
        table.add_row(
            printable(row["signal"]), printable(params), str(row["horizon"]),
            printable(row["universe"]), printable(row["cost"]), _fmt(row["ic_mean"], 4),
            _fmt(row["t_hac"], 2), _fmt(row["rw_p"]), _fmt(row["dsr"]),
        )  # fmt: skip
    stdout.print(table)
    pbo = family["pbo"]["pbo"] if family["pbo"] else None
    stdout.print(
        f"{result.n_trials:,} trials ({result.chunks_evaluated} chunk(s) evaluated, "
        f"{result.chunks_resumed} from checkpoints): Reality Check p {_fmt(family['rc_p'])}, "
        f"SPA p {_fmt(family['spa_p'])}, PBO {_fmt(pbo)}; DSR with N = {result.n_trials:,}",
        highlight=False,
    )
    stdout.print(
        f"every trial is in the trial ledger: a later promotion counts all {result.n_trials:,}",
        highlight=False,
    )


@command_boundary
def sweep_command(
    *,
    db: DbUrlOpt = None,
    tenant: TenantOpt = None,
    json: JsonOpt = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="Sweep TOML (see docs/sweeps.md).")
    ] = None,
    scheduler: Annotated[
        str,
        typer.Option(
            help="`local` (in-process, or a LocalCluster with --workers) or tcp://HOST:PORT of a "
            "running Dask scheduler.",
            envvar="CRYPTO_ANALYZER_DASK_SCHEDULER",
        ),
    ] = "local",
    workers: Annotated[
        int | None, typer.Option(help="Worker processes of a local Dask cluster (0: in-process).")
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option("--resume", help="Continue the sweep run SWEEP; finished chunks are reused."),
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Who runs it (default: OS user).")] = None,
) -> None:
    """Evaluate a grid of hypotheses with the report's walk-forward; record every trial."""
    if (config is None) == (resume is None):
        raise ValidationError(
            "give --config SWEEP.toml for a new sweep or --resume SWEEP to continue one",
            "not both, not neither",
        )
    sweep = load_sweep_config(config) if config is not None else None
    principal = check_actor(actor or getpass.getuser())
    settings = resolve_settings(db, tenant)
    bar = _Bar(quiet=json)
    executor = make_executor(scheduler, workers, on_cluster=bar.dashboard)
    try:
        result = run_sweep(
            settings, sweep, actor=principal, resume=resume, executor=executor, progress=bar
        )
    finally:
        bar.stop()
    if json:
        emit_json(result.to_dict())
        return
    _render(result)
