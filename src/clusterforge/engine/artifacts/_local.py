"""The ``local`` repository: a directory, one file per key.

The embedded default needs no server and no configuration. A write goes to a
hidden temporary file next to its target and is renamed into place when
complete, so a reader (or a crash) never sees half an object. Every key is
joined under the root only after :func:`._keys.checked_key` refused ``..``
and absolute paths, and the joined path is checked again against the
resolved root so a symlink planted in the directory cannot redirect a write.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from clusterforge.engine.artifacts._keys import UnsafeKey, checked_key
from clusterforge.engine.artifacts._repository import (
    ArtifactMissing,
    RepositoryError,
    StoredObject,
)


class LocalRepository:
    """Objects as files under ``root``."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root

    def describe(self) -> str:
        return f"local {self.root}"

    def _path(self, key: str) -> Path:
        key = checked_key(key, "key")
        root = self.root.resolve()
        target = root / key
        if not target.parent.resolve().is_relative_to(root):
            raise UnsafeKey(f"key {key!r} leads outside the repository {self.root}")
        return target

    def tree_path(self, key: str) -> Path:
        """Where the objects under ``key/`` live: a directory, checked like any key."""
        return self._path(key)

    @contextmanager
    def writer(self, key: str) -> Iterator[IO[bytes]]:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        except OSError as err:
            raise RepositoryError(
                f"artifact repository {self.name!r} ({self.describe()}) is not writable: "
                f"{err.strerror}"
            ) from None
        try:
            with os.fdopen(fd, "wb") as out:
                yield out
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    @contextmanager
    def reader(self, key: str) -> Iterator[IO[bytes]]:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise ArtifactMissing(f"no artifact {key!r} in repository {self.name!r}") from None
        with handle:
            yield handle

    def list(self, prefix: str) -> Iterator[StoredObject]:
        root = self.root.resolve()
        base = prefix.rstrip("/")
        start = self._path(base) if base else root
        if start.is_file():
            yield StoredObject(base, start.stat().st_size)
            return
        candidates = [start] if start.is_dir() else []
        if not prefix.endswith("/") and base and start.parent.is_dir():
            # A bare prefix also matches siblings that start with it (S3's semantics).
            candidates = [p for p in start.parent.iterdir() if p.name.startswith(start.name)]
        for candidate in sorted(candidates):
            yield from self._walk(candidate, root)

    def _walk(self, top: Path, root: Path) -> Iterator[StoredObject]:
        if top.is_file():
            if not top.name.startswith("."):
                yield StoredObject(top.relative_to(root).as_posix(), top.stat().st_size)
            return
        for base, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                if name.startswith("."):
                    continue  # a write in progress
                path = Path(base, name)
                yield StoredObject(path.relative_to(root).as_posix(), path.stat().st_size)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        root = self.root.resolve()
        parent = path.parent
        while parent != root and parent.is_relative_to(root):
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def location(self, key: str) -> dict[str, Any]:
        return {"key": key, "repository": self.name}
