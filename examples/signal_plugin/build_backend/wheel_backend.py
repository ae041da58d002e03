"""A dependency-free PEP 517 backend: just enough to pip-install this example offline.

It exists so the example installs with ``pip install --no-build-isolation`` on a machine whose
environment has no ``wheel`` package and no network. Your own plugin does not need it: use any
backend (setuptools, hatchling, flit-core); what makes a plugin is the
``[project.entry-points."crypto_analyzer.signals"]`` table in ``pyproject.toml``.

It builds a pure-Python wheel from ``src/<package>/`` with the name, version and entry points of
``pyproject.toml`` — nothing else (no sdists, no dependencies, no editable installs).
"""

from __future__ import annotations

import base64
import hashlib
import tomllib
import zipfile
from pathlib import Path
from typing import Any

__all__ = ["build_wheel", "get_requires_for_build_wheel"]

_ROOT = Path(__file__).resolve().parent.parent


def get_requires_for_build_wheel(config_settings: Any = None) -> list[str]:
    """Nothing to install: the backend uses the standard library only."""
    return []


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(
    wheel_directory: str, config_settings: Any = None, metadata_directory: Any = None
) -> str:
    """Write ``<name>-<version>-py3-none-any.whl`` into ``wheel_directory``; return its name."""
    project = tomllib.loads((_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dist = project["name"].replace("-", "_")
    version = project["version"]
    info = f"{dist}-{version}.dist-info"
    files: dict[str, bytes] = {}
    for path in sorted((_ROOT / "src").rglob("*.py")):
        files[path.relative_to(_ROOT / "src").as_posix()] = path.read_bytes()
    metadata = f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {version}\n"
    files[f"{info}/METADATA"] = metadata.encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: wheel_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    groups = project.get("entry-points", {})
    lines = []
    for group, points in sorted(groups.items()):
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {value}" for name, value in sorted(points.items()))
        lines.append("")
    files[f"{info}/entry_points.txt"] = "\n".join(lines).encode()
    record = [_record_line(name, data) for name, data in files.items()]
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel_name = f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory) / wheel_name, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files.items():
            wheel.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return wheel_name
