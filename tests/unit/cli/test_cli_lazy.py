"""The root command imports a command's module only when it is used, and says the same about it.

Start-up speed is a property of the import graph, so these tests inspect ``sys.modules`` in a
fresh interpreter rather than time anything (timings live in benchmarks/bench_cli_startup.py).
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import TyperOption
from typer.testing import CliRunner

from crypto_analyzer.cli.app import COMMANDS, app
from crypto_analyzer.cli.lazy import LazyCommand, load_command
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import head_revision, packaged_heads, upgrade

runner = CliRunner()

HEAVY = (
    "pandas",
    "numpy",
    "scipy",
    "matplotlib",
    "ccxt",
    "sqlalchemy",
    "sqlalchemy.dialects.postgresql",
    "pydantic_settings",
    "crypto_analyzer.pipeline",
    "crypto_analyzer.db",
)

_PROBE = """
import json, sys
sys.argv = ["crypto-analyzer", *json.loads(sys.argv[1])]
from crypto_analyzer.cli.app import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = sorted(name for name in HEAVY if name in sys.modules)
sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "loaded": loaded}) + "\\n")
"""


def _probe(*args: str, heavy: tuple[str, ...] = HEAVY) -> dict[str, object]:
    code = f"HEAVY = {list(heavy)!r}\n" + _PROBE
    completed = subprocess.run(
        [sys.executable, "-c", code, json.dumps(list(args))],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100"},
        timeout=120,
    )
    line = [row for row in completed.stderr.splitlines() if row.startswith("PROBE ")]
    assert line, completed.stderr
    result: dict[str, object] = json.loads(line[-1].removeprefix("PROBE "))
    result["stdout"] = completed.stdout
    return result


@pytest.mark.parametrize("args", [(), ("--version",), ("--help",), ("-h",)])
def test_root_help_and_version_import_no_heavy_module(args: tuple[str, ...]) -> None:
    result = _probe(*args)
    assert result["loaded"] == [], f"{args} imported {result['loaded']}"
    assert result["code"] == (2 if not args else 0)
    assert "crypto-analyzer" in str(result["stdout"])


def test_importing_the_cli_module_imports_no_heavy_module() -> None:
    code = (
        "import sys, json\nimport crypto_analyzer.cli.app\n"
        f"print(json.dumps(sorted(n for n in {list(HEAVY)!r} if n in sys.modules)))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == []


def test_a_command_is_imported_when_it_is_used() -> None:
    """The probe can see an import: asking for `report --help` does load the report module."""
    result = _probe("report", "--help")
    assert result["code"] == 0
    assert "crypto_analyzer.pipeline" in result["loaded"]
    assert "--config" in str(result["stdout"])


def test_listing_runs_needs_neither_alembic_nor_numpy(tmp_path: Path) -> None:
    """Every read command checks the schema revision; at head that check imports no Alembic."""
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    heavy = ("alembic", "numpy", "pandas", "scipy", "matplotlib", "ccxt")
    result = _probe("--db", url, "runs", "list", "--json", heavy=heavy)
    assert result["code"] == 0, result
    assert result["loaded"] == []
    assert json.loads(str(result["stdout"])) == []


def test_the_text_scan_of_the_migrations_agrees_with_alembic() -> None:
    assert packaged_heads() == frozenset({head_revision()})


def _first_paragraph(text: str) -> str:
    return inspect.cleandoc(text).split("\n\n")[0].strip()


@pytest.mark.parametrize("spec", COMMANDS, ids=[spec.name for spec in COMMANDS])
def test_static_help_is_the_commands_own(spec: LazyCommand) -> None:
    command = load_command(spec)
    assert command.name == spec.name
    assert command.hidden is spec.hidden
    own = _first_paragraph(command.short_help or command.help or "")
    assert spec.help == own, f"update the help of {spec.name!r} in cli/app.py COMMANDS"


def test_root_listing_shows_every_visible_command_and_its_help() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for spec in COMMANDS:
        shown = [line for line in lines if line.strip("│ ").startswith(f"{spec.name} ")]
        if spec.hidden:
            assert not shown, spec.name
            continue
        assert shown, spec.name
        assert spec.help.split("\n")[0] in shown[0]


def test_command_names_are_unique() -> None:
    names = [spec.name for spec in COMMANDS]
    assert len(names) == len(set(names))


def _paths(command: object, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found += _paths(sub, (*prefix, name))
    return found


ALL_PATHS = [path for spec in COMMANDS for path in _paths(load_command(spec), (spec.name,))]


@pytest.mark.parametrize("path", ALL_PATHS, ids=[" ".join(path) for path in ALL_PATHS])
def test_every_command_resolves_and_its_flags_are_plain(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert f"Usage: crypto-analyzer {' '.join(path)}" in result.stdout
    assert "<bool>" not in result.stdout


def test_flags_have_no_negative_form() -> None:
    for spec in COMMANDS:
        stack = [load_command(spec)]
        while stack:
            command = stack.pop()
            stack.extend(getattr(command, "commands", {}).values())
            for param in command.params:
                if isinstance(param, TyperOption) and param.is_flag:
                    assert not param.secondary_opts, (command.name, param.opts)


def test_unknown_command_suggests_the_close_one() -> None:
    result = runner.invoke(app, ["rnus"])
    assert result.exit_code == 2
    assert "Did you mean 'runs'" in result.output
