"""Local-folder artifact store: the default (``file://./artifacts``).

Create-only is made atomic with a hard link: bytes go to a temporary file in the same directory,
are flushed to disk, then linked to the final name, which fails if the name exists. A crash leaves
at most a stray temporary file, never a half-written artifact under its real key.

The store never follows a symbolic link inside its root. A link planted there (``runs/x`` →
``/etc``) would otherwise carry a write, or a read, outside the store. Every operation walks from
the root one directory at a time with ``O_NOFOLLOW`` and ``dir_fd`` (the ``openat`` pattern), so
no path is ever resolved through a link, not even between a check and the write; directories are
created with ``mkdir`` relative to their parent's descriptor, which does not follow links either.
A link found on the way is refused with an :class:`ArtifactStoreError` naming it; as defence in
depth, the directory's real path must then equal ``root/…`` exactly. The root itself is resolved
once, when the store is opened: it is the operator's choice of location.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from crypto_analyzer.artifacts.location import check_root, parse_root_url
from crypto_analyzer.artifacts.store import (
    COPY_CHUNK_BYTES,
    MAX_KEY_BYTES,
    RESERVED_SEGMENT_PREFIX,
    ArtifactStore,
)
from crypto_analyzer.core.errors import ArtifactStoreError
from crypto_analyzer.core.hashing import sha256_stream

__all__ = ["LocalArtifactStore"]

_TEMP_PREFIX = RESERVED_SEGMENT_PREFIX
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC  # NONBLOCK: a planted FIFO
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC
_PATH_MAX = 4096


class LocalArtifactStore(ArtifactStore):
    """Artifacts as files under a root directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        super().__init__(f"file://{self.root}")

    @classmethod
    def from_url(cls, url: str, **_: object) -> LocalArtifactStore:
        location = parse_root_url(url)
        assert location.root is not None
        return cls(location.root)

    @classmethod
    def check_url(cls, url: str) -> tuple[bool, str]:
        """Read-only check for ``doctor``: the root is (or can become) a writable directory."""
        root = parse_root_url(url).root
        assert root is not None
        return check_root(root)

    @property
    def max_key_bytes(self) -> int:
        """The shared limit, or less when the root path leaves less of ``PATH_MAX``."""
        return min(MAX_KEY_BYTES, _PATH_MAX - 1 - len(os.fsencode(self.root)) - 1)

    # -- the no-follow walk -------------------------------------------------------------------

    def _open_root(self, *, create: bool) -> int | None:
        if create:
            try:
                os.makedirs(self.root, exist_ok=True)
            except OSError as exc:
                raise self._failure("create the store root", "", exc) from exc
        try:
            return os.open(self.root, _DIRECTORY_FLAGS)
        except FileNotFoundError:
            if create:  # pragma: no cover - removed between makedirs and open
                raise
            return None
        except OSError as exc:
            raise self._refusal(None, [], exc) from exc

    def _open_directory(self, segments: list[str], *, create: bool) -> int | None:
        """Descriptor of ``root/segments…`` reached without following any link; None if absent.

        The walk is the real-path check: each step opens a child of the directory already open,
        with ``O_NOFOLLOW``, so the directory finally returned is inside the real root.
        """
        current = self._open_root(create=create)
        if current is None:
            return None
        try:
            for depth, name in enumerate(segments):
                if create:
                    with contextlib.suppress(FileExistsError):  # exists: the open checks what
                        os.mkdir(name, 0o777, dir_fd=current)
                try:
                    child = os.open(name, _DIRECTORY_FLAGS, dir_fd=current)
                except FileNotFoundError:
                    if create:  # pragma: no cover - removed between mkdir and open
                        raise
                    os.close(current)
                    return None
                except OSError as exc:
                    raise self._refusal(current, segments[: depth + 1], exc) from exc
                os.close(current)
                current = child
            self._check_real_path(segments)
        except BaseException:
            os.close(current)
            raise
        return current

    def _check_real_path(self, segments: list[str]) -> None:
        """Defence in depth after the walk: the directory's real path must be exactly
        ``root/segments…``, so every parent resolves under the real root through no link."""
        expected = os.path.join(self.root, *segments)
        if os.path.realpath(expected) != expected:
            raise _link_refused(self.url, "/".join(segments))

    def _refusal(self, parent: int | None, segments: list[str], exc: OSError) -> ArtifactStoreError:
        """Why opening ``segments`` as a directory failed, naming the offending path."""
        where = "/".join(segments)
        name = segments[-1] if segments else str(self.root)
        try:
            mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
        except OSError:
            mode = 0
        if stat.S_ISLNK(mode) or exc.errno == errno.ELOOP:
            return _link_refused(self.url, where or str(self.root))
        if exc.errno == errno.ENOTDIR or (mode and not stat.S_ISDIR(mode)):
            return ArtifactStoreError(
                f"artifact store {self.url}: {where!r} is not a directory",
                "a file is in the way of the key; choose another key or remove the file",
            )
        return self._failure("open", where, exc)

    def _failure(self, action: str, key: str, exc: OSError) -> ArtifactStoreError:
        return ArtifactStoreError(
            f"artifact store {self.url}: cannot {action} {key!r}: {exc.strerror or exc}",
            "check the store folder's permissions and free space",
        )

    def _entry_mode(self, parent: int, name: str, key: str) -> int | None:
        """``st_mode`` of ``name`` in ``parent`` without following it (None: absent); a link is
        refused."""
        try:
            mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._failure("inspect", key, exc) from exc
        if stat.S_ISLNK(mode):
            raise _link_refused(self.url, key)
        return mode

    # -- backend hooks ------------------------------------------------------------------------

    def _create(self, key: str, data: bytes) -> bool:
        return self._create_with(key, lambda stream: stream.write(data))

    def _create_from(self, key: str, stream: BinaryIO) -> tuple[bool, str, int]:
        """The file copied a chunk at a time into the temporary file, hashed on the way."""
        digest = hashlib.sha256()
        copied: list[int] = []

        def copy(target: BinaryIO) -> None:
            while chunk := stream.read(COPY_CHUNK_BYTES):
                digest.update(chunk)
                target.write(chunk)
                copied.append(len(chunk))

        if self._create_with(key, copy):
            return True, digest.hexdigest(), sum(copied)
        if not copied:  # the key was there before anything was copied: hash the source alone
            return False, *sha256_stream(stream)
        return False, digest.hexdigest(), sum(copied)

    def _create_with(self, key: str, write: Callable[[BinaryIO], object]) -> bool:
        *parents, name = key.split("/")
        directory = self._open_directory(parents, create=True)
        assert directory is not None
        try:
            mode = self._entry_mode(directory, name, key)
            if mode is None:
                return self._write_new(directory, name, key, write)
            if not stat.S_ISREG(mode):
                raise ArtifactStoreError(
                    f"artifact store {self.url}: {key!r} exists and is not a regular file",
                    "remove what is in the way or choose another key",
                )
            return False
        finally:
            os.close(directory)

    def _write_new(
        self, directory: int, name: str, key: str, write: Callable[[BinaryIO], object]
    ) -> bool:
        temporary = f"{_TEMP_PREFIX}{secrets.token_hex(8)}"
        try:
            handle = os.open(temporary, _TEMP_FLAGS, 0o600, dir_fd=directory)
        except OSError as exc:
            raise self._failure("write", key, exc) from exc
        try:
            with os.fdopen(handle, "wb") as stream:
                write(stream)
                stream.flush()
                os.fsync(stream.fileno())
            try:
                os.link(
                    temporary, name, src_dir_fd=directory, dst_dir_fd=directory,
                    follow_symlinks=False,
                )  # fmt: skip
            except FileExistsError:
                self._entry_mode(directory, name, key)  # a link planted meanwhile is refused
                return False
            os.fsync(directory)  # the new name survives a power cut, not only its bytes
            return True
        except OSError as exc:
            raise self._failure("write", key, exc) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=directory)

    def _read(self, key: str) -> bytes | None:
        *parents, name = key.split("/")
        directory = self._open_directory(parents, create=False)
        if directory is None:
            return None
        try:
            try:
                handle = os.open(name, _READ_FLAGS, dir_fd=directory)
            except FileNotFoundError:
                return None
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise _link_refused(self.url, key) from exc
                raise self._failure("read", key, exc) from exc
            with os.fdopen(handle, "rb") as stream:
                if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                    return None
                return stream.read()
        finally:
            os.close(directory)

    def _open(self, key: str) -> BinaryIO | None:
        """The file itself, opened by the same link-refusing walk as :meth:`_read`."""
        *parents, name = key.split("/")
        directory = self._open_directory(parents, create=False)
        if directory is None:
            return None
        try:
            try:
                handle = os.open(name, _READ_FLAGS, dir_fd=directory)
            except FileNotFoundError:
                return None
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise _link_refused(self.url, key) from exc
                raise self._failure("read", key, exc) from exc
            stream = os.fdopen(handle, "rb")
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                stream.close()
                return None
            return stream
        finally:
            os.close(directory)

    def _exists(self, key: str) -> bool:
        *parents, name = key.split("/")
        directory = self._open_directory(parents, create=False)
        if directory is None:
            return False
        try:
            mode = self._entry_mode(directory, name, key)
            return mode is not None and stat.S_ISREG(mode)
        finally:
            os.close(directory)

    def _list(self, prefix: str) -> list[str]:
        """Regular files only: links and in-flight temporary files are not artifacts."""
        if not self.root.is_dir():
            return []
        keys = []
        for folder, _, files in os.walk(self.root, followlinks=False):
            base = Path(folder)
            for name in files:
                path = base / name
                if name.startswith(_TEMP_PREFIX) or not stat.S_ISREG(path.lstat().st_mode):
                    continue
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return keys


def _link_refused(url: str, where: str) -> ArtifactStoreError:
    return ArtifactStoreError(
        f"artifact store {url}: refuses to follow the symbolic link at {where!r}",
        "the store never follows links inside its root; remove the link (someone planted it)",
    )
