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
import tarfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from clusterforge.engine.artifacts._archive import (
    DEFAULT_LEVEL,
    Readable,
    apply_mode,
    checked_relative,
    copy_into_place,
    copy_stream,
    is_gzip,
    pack,
    remove_path,
    unpack,
)
from clusterforge.engine.artifacts._local_trees import get_tree, put_tree
from clusterforge.engine.artifacts._repository import (
    ArtifactMissing,
    ArtifactRepository,
    StoredObject,
)

_T = TypeVar("_T")
_CHUNK = 1 << 20
_SNIFF = 64 * 1024
PARALLEL = 8
SMALL = 1 << 20


def put_path(
    repo: ArtifactRepository, key: str, source: Path, *, archived: bool, level: int = DEFAULT_LEVEL
) -> None:
    """Store ``source`` under ``key`` (tar+gzip when ``archived``)."""
    if archived:
        with repo.writer(key) as out:
            pack(source, out, level)
        return
    if source.is_dir():
        if put_tree(repo, key, source):
            return
        files = sorted(_files(source))

        def put(path: Path) -> None:
            put_file(repo, f"{key}/{path.relative_to(source).as_posix()}", path)

        _each(put, files, lambda path: path.stat().st_size)
        return
    put_file(repo, key, source)


def _each(action: Callable[[_T], None], items: Sequence[_T], size: Callable[[_T], int]) -> None:
    """``action`` on every item: small ones :data:`PARALLEL` at a time, then large ones."""
    small = [item for item in items if size(item) <= SMALL]
    large = [item for item in items if size(item) > SMALL]
    if len(small) > 1:
        with ThreadPoolExecutor(PARALLEL, thread_name_prefix="artifact") as pool:
            for _ in pool.map(action, small):
                pass  # re-raises the first failure
    else:
        large = list(items)
    for item in large:
        action(item)


def put_file(repo: ArtifactRepository, key: str, source: Path) -> None:
    with source.open("rb") as handle, repo.writer(key) as out:
        copy_stream(handle, out)


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
        wanted = prefix + checked_relative(sub_path, "subPath") if sub_path else prefix
        if get_tree(repo, wanted.rstrip("/"), dest):
            if mode is not None:
                apply_mode(dest, mode)
            return
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
    base = wanted.rstrip("/")
    staging = dest.with_name(f".{dest.name}.tree")
    remove_path(staging)
    chosen = []
    for item in objects:
        if item.key == base or item.key.startswith(base + "/"):
            relative = checked_relative(item.key[len(base) :].lstrip("/"), "key")
            chosen.append((item, staging / relative if relative else staging))

    def fetch(pair: tuple[StoredObject, Path]) -> None:
        # Straight into the staging directory: it is renamed into place only when complete.
        pair[1].parent.mkdir(parents=True, exist_ok=True)
        with repo.reader(pair[0].key) as stream, pair[1].open("wb") as out:
            copy_stream(stream, out)

    try:
        _each(fetch, chosen, lambda pair: pair[0].size)
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
    copy_into_place(stream, dest, head=head)


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
