"""Install a plugin distribution for real, into a throw-away directory, and run code against it.

The shared virtualenv has setuptools without ``wheel`` and no network is assumed, so a PEP 517
build (``pip install -e``) cannot run here. Instead the wheel is assembled from the project's own
``pyproject.toml`` — its name, version and ``[project.entry-points]`` — exactly as a build backend
would lay it out (PEP 427: ``dist-info`` with METADATA, WHEEL, entry_points.txt and a RECORD of
hashes), and then installed by pip itself with ``--target``. Discovery then goes through
``importlib.metadata`` of the installed copy, as it would for any user.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

__all__ = ["REPO", "build_wheel", "pip_install", "run_python", "write_project"]

REPO = Path(__file__).resolve().parents[3]


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def build_wheel(project: Path, out: Path) -> Path:
    """A pure-Python wheel of ``project`` (packages listed in ``[tool.setuptools] packages``)."""
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    name, version = meta["project"]["name"], meta["project"]["version"]
    dist = re.sub(r"[-_.]+", "_", name).lower()
    info = f"{dist}-{version}.dist-info"
    files: dict[str, bytes] = {}
    for package in meta["tool"]["setuptools"]["packages"]:
        for path in sorted((project / package).rglob("*.py")):
            files[path.relative_to(project).as_posix()] = path.read_bytes()
    lines = []
    for group, entries in meta["project"].get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines.extend(f"{key} = {value}" for key, value in entries.items())
        lines.append("")
    files[f"{info}/entry_points.txt"] = "\n".join(lines).encode()
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: crypto-analyzer-tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )
    record = [f"{path},{_record_hash(data)},{len(data)}" for path, data in files.items()]
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def pip_install(wheel: Path, target: Path) -> None:
    """``pip install --no-deps --target TARGET WHEEL``: a throw-away target, never the venv."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
         "--disable-pip-version-check", "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip


def write_project(root: Path, name: str, modules: dict[str, str], entry_points: dict) -> Path:
    """A minimal plugin project (pyproject + one package) for refusal tests."""
    package = next(iter(modules)).split("/")[0]
    for relative, text in modules.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    groups = "\n".join(
        f'[project.entry-points."{group}"]\n'
        + "\n".join(f'{key} = "{value}"' for key, value in entries.items())
        for group, entries in entry_points.items()
    )
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "1.0"\n\n{groups}\n\n'
        f'[tool.setuptools]\npackages = ["{package}"]\n'
    )
    return root


def run_python(code: str, *paths: Path, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter with ``src`` and ``paths`` first on the path; the code
    prints one JSON document on its last line, which is returned. A failure raises with stderr."""
    python_path = os.pathsep.join([str(REPO / "src"), *map(str, paths)])
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, **(env or {}), "PYTHONPATH": python_path},
    )  # fmt: skip
    if result.returncode != 0:
        raise AssertionError(f"subprocess failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
