"""``crypto-analyzer stats``: statistics commands (calibration of every procedure in ``stats``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crypto_analyzer.cli.context import command_boundary, emit_json, stderr
from crypto_analyzer.cli.options import JsonOpt
from crypto_analyzer.cli.safe_text import visible
from crypto_analyzer.core.canonical_json import canonical_dumps
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.stats import calibration

__all__ = ["MAX_CALIBRATION_OBS", "MAX_CALIBRATION_REPS", "app"]

MAX_CALIBRATION_REPS = 100_000
MAX_CALIBRATION_OBS = 100_000
"""Calibration runs every test reps times on series of n_obs: bounded so a typo cannot ask for
days of CPU or a bootstrap matrix that does not fit in memory."""

app = typer.Typer(
    name="stats",
    help="Statistical procedures: calibration of size and power.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def stats_group() -> None:
    """Statistical procedures: calibration of size and power."""


def _command_line(reps: int, n_obs: int, alpha: float, seed: int, output_dir: Path | None) -> str:
    parts = ["crypto-analyzer stats calibrate", f"--reps {reps}", f"--n-obs {n_obs}"]
    parts += [f"--alpha {alpha}", f"--seed {seed}"]
    if output_dir is not None:
        parts.append(f"--output-dir {output_dir.as_posix()}")
    return " ".join(parts)


def _table(result: calibration.CalibrationResult) -> Table:
    table = Table(title=f"Calibration (reps={result.reps}, T={result.n_obs}, alpha={result.alpha})")
    for column in ("test", "dgp", "scenario", "rate", "99% band", "in band"):
        table.add_column(column)
    for row in result.rows:
        band = "" if row.band_low is None else f"[{row.band_low:.3f}, {row.band_high:.3f}]"
        ok = "" if row.within_band is None else ("yes" if row.within_band else "NO")
        table.add_row(row.test, row.dgp, row.scenario, f"{row.rate:.3f}", band, ok)
    return table


@app.command("calibrate")
@command_boundary
def calibrate(
    *,
    reps: Annotated[
        int, typer.Option(help="Monte-Carlo replications per cell.", max=MAX_CALIBRATION_REPS)
    ] = 1000,
    n_obs: Annotated[
        int, typer.Option("--n-obs", help="Series length T.", max=MAX_CALIBRATION_OBS)
    ] = 250,
    alpha: Annotated[float, typer.Option(help="Nominal level of every test.")] = 0.05,
    seed: Annotated[int, typer.Option(help="Master seed; recorded in the output.")] = 20240605,
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", help="Write calibration.md and calibration.json here."),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Measure each test's rejection rate under null DGPs (size) and planted effects (power)."""
    try:  # only argument checks are user errors; a fault inside the simulation stays a fault
        calibration.check_calibration_arguments(reps=reps, n_obs=n_obs, alpha=alpha, seed=seed)
    except (TypeError, ValueError) as exc:
        raise ValidationError(str(exc), "see `crypto-analyzer stats calibrate --help`") from None
    result = calibration.run_calibration(reps=reps, n_obs=n_obs, alpha=alpha, seed=seed)
    command = _command_line(reps, n_obs, alpha, seed, output_dir)
    payload = {"command": command, **result.to_dict()}
    stderr.print(_table(result))
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        md_path = output_dir / "calibration.md"
        json_path = output_dir / "calibration.json"
        md_path.write_text(calibration.render_calibration_markdown(result, command), "utf-8")
        json_path.write_text(canonical_dumps(payload) + "\n", "utf-8")
        if not json:
            typer.echo(visible(md_path.as_posix()))
            typer.echo(visible(json_path.as_posix()))
    if json:
        emit_json(payload)
