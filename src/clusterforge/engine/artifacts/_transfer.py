"""Moving one path into a repository object and one object onto a path.

Outputs: a file or directory is packed as tar+gzip straight into the
repository's writer (no temporary tarball), or with ``archive: none`` copied
as is — a directory then becomes one object per file under the key, as Argo
stores it. Inputs: the object is streamed; if its first bytes are a gzip'd
tar it is unpacked safely (Argo recognises tarballs by content, not by
name), otherwise it is written as a plain file; a key with no object but
objects under ``key/`` is a directory stored without archiving.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from clusterforge.engine.artifacts._archive import (
    DEFAULT_LEVEL,
    Readable,
    apply_mode,
    checked_relative,
    copy_into_place,
    is_gzip,
    pack,
    remove_path,
    unpack,
)
from clusterforge.engine.artifacts._repository import (
    ArtifactMissing,
    ArtifactRepository,
    StoredObject,
)

_CHUNK = 1 << 20
_SNIFF = 64 * 1024


def put_path(
    repo: ArtifactRepository, key: str, source: Path, *, archived: bool, level: int = DEFAULT_LEVEL
) -> None:
    """Store ``source`` under ``key`` (tar+gzip when ``archived``)."""
    if archived:
        with repo.writer(key) as out:
            pack(source, out, level)
        return
    if source.is_dir():
        for path in sorted(_files(source)):
            relative = path.relative_to(source).as_posix()
            put_file(repo, f"{key}/{relative}", path)
        return
    put_file(repo, key, source)


def put_file(repo: ArtifactRepository, key: str, source: Path) -> None:
    with source.open("rb") as handle, repo.writer(key) as out:
        shutil.copyfileobj(handle, out, _CHUNK)


def put_bytes(repo: ArtifactRepository, key: str, data: bytes) -> None:
    with repo.writer(key) as out:
        out.write(data)


def _files(root: Path) -> Iterator[Path]:
    """Regular files under ``root``; symlinks are skipped, as Argo's PutDirectory
    (workflow/artifacts/s3/s3.go: generatePutTasks) skips them."""
    for base, _dirs, files in os.walk(root):
        for name in files:
            path = Path(base, name)
            if path.is_file() and not path.is_symlink():
                yield path


def get_path(
    repo: ArtifactRepository,
    key: str,
    dest: Path,
    *,
    sub_path: str | None = None,
    mode: int | None = None,
) -> None:
    """Place the object (or the directory of objects) under ``key`` at ``dest``."""
    try:
        with repo.reader(key) as stream:
            place_stream(stream, dest, sub_path=sub_path)
    except ArtifactMissing:
        prefix = key.rstrip("/") + "/"
        objects = list(repo.list(prefix))
        if not objects:
            raise
        _get_tree(repo, prefix, objects, dest, sub_path)
    if mode is not None:
        apply_mode(dest, mode)


def _get_tree(
    repo: ArtifactRepository,
    prefix: str,
    objects: Sequence[StoredObject],
    dest: Path,
    sub_path: str | None,
) -> None:
    wanted = prefix + checked_relative(sub_path, "subPath") if sub_path else prefix
    staging = dest.with_name(f".{dest.name}.tree")
    remove_path(staging)
    try:
        for item in objects:
            key = item.key
            if not (key == wanted.rstrip("/") or key.startswith(wanted.rstrip("/") + "/")):
                continue
            relative = checked_relative(key[len(wanted.rstrip("/")) :].lstrip("/"), "key")
            target = staging / relative if relative else staging
            with repo.reader(key) as stream:
                copy_into_place(stream, target)
        if not staging.exists():
            raise ArtifactMissing(f"subPath {sub_path!r} is not in the artifact")
        remove_path(dest)
        os.replace(staging, dest)
    finally:
        remove_path(staging)


def place_stream(stream: Readable, dest: Path, *, sub_path: str | None = None) -> None:
    """Write one object's bytes to ``dest``: unpacked when it is a tarball, else as is."""
    head = stream.read(_SNIFF)
    whole = _Prefixed(head, stream)
    if is_gzip(head) and _is_tar(head):
        unpack(whole, dest, sub_path)
        return
    if sub_path:
        raise ArtifactMissing(f"subPath {sub_path!r} needs an archived (tar) artifact")
    remove_path(dest)
    copy_into_place(whole, dest)


def _is_tar(head: bytes) -> bool:
    try:
        inflated = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 1024)
    except zlib.error:
        return False
    if len(inflated) < 512:
        return False
    try:
        tarfile.TarInfo.frombuf(inflated[:512], "utf-8", "surrogateescape")
    except tarfile.TarError:
        return False
    return True


class _Prefixed(io.RawIOBase):
    """Bytes already read, then the rest of the stream."""

    def __init__(self, head: bytes, rest: Readable) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._head:
            count = min(len(view), len(self._head))
            view[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)
