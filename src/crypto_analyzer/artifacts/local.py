"""Local-folder artifact store: the default (``file://./artifacts``).

Create-only is made atomic with a hard link: bytes go to a temporary file in the same directory,
are flushed to disk, then linked to the final name, which fails if the name exists. A crash leaves
at most a stray temporary file, never a half-written artifact under its real key.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from crypto_analyzer.artifacts.location import parse_location
from crypto_analyzer.artifacts.store import ArtifactStore

__all__ = ["LocalArtifactStore"]

_TEMP_PREFIX = ".tmp-"


class LocalArtifactStore(ArtifactStore):
    """Artifacts as files under a root directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        super().__init__(f"file://{self.root}")

    @classmethod
    def from_url(cls, url: str, **_: object) -> LocalArtifactStore:
        location = parse_location(url)
        assert location.root is not None
        return cls(location.root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def _create(self, key: str, data: bytes) -> bool:
        target = self._path(key)
        if target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            try:
                os.link(temporary, target)
            except FileExistsError:
                return False
            return True
        finally:
            os.unlink(temporary)

    def _read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def _exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def _list(self, prefix: str) -> list[str]:
        if not self.root.exists():
            return []
        keys = []
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.startswith(_TEMP_PREFIX):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return keys
