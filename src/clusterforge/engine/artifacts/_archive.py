"""Packing an output path into one object, and unpacking one safely.

Argo stores an output artifact as a tarball (gzip, default level) unless the
template says ``archive: {none: {}}`` (a file as is) or picks a
``tar.compressionLevel`` (0 still writes gzip framing, uncompressed). An input
artifact that is a tarball is unpacked at its ``path``: a tarball holding a
single file becomes that file, one holding a directory becomes that directory.

Unpacking runs on data that may come from anywhere (a repository another
workflow wrote, an HTTP URL), so every member is checked before anything is
written: an absolute name, a ``..`` segment, a link whose target leaves the
destination, a device or FIFO — the whole archive is refused and nothing is
left behind. Packing and unpacking stream through ``tarfile``'s stream modes,
so memory stays flat whatever the size.
"""

from __future__ import annotations

import gzip
import os
import posixpath
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import IO, Protocol, cast

from clusterforge.errors import InvalidInput

DEFAULT_LEVEL = zlib.Z_DEFAULT_COMPRESSION
"""gzip's default level, which Argo uses when ``tar`` names no level."""

_GZIP_MAGIC = b"\x1f\x8b"
_BUFFER = 64 * 1024
"""tarfile's stream buffer (10 KiB by default) and copy chunk: its stream slices its buffer by
copying, so a large buffer costs as much as a small one; 64 KiB measured best."""


class Readable(Protocol):
    """Anything with ``read(n)``: a file, an HTTP body, an S3 object body."""

    def read(self, size: int = -1, /) -> bytes: ...


class UnsafeArchive(InvalidInput):
    """An archive member would land outside the extraction target."""


def pack(source: Path, out: IO[bytes], level: int = DEFAULT_LEVEL) -> None:
    """Write ``source`` (a file or a directory) to ``out`` as tar+gzip.

    The single top-level entry is named after ``source``'s basename, as Argo
    names it, so unpacking at another path renames it there.
    """
    gzip_level = 6 if level < 0 else min(level, 9)
    # tarfile's stream mode takes no compresslevel before Python 3.12: gzip it here.
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=gzip_level, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT, bufsize=_BUFFER) as tar,
    ):
        tar.copybufsize = _BUFFER  # type: ignore[attr-defined]  # real since 3.8; not in typeshed
        tar.add(str(source), arcname=source.name, recursive=True)


def is_gzip(head: bytes) -> bool:
    """Whether the first bytes of an object are a gzip stream (an Argo tarball)."""
    return head[:2] == _GZIP_MAGIC


def unpack(stream: Readable, dest: Path, sub_path: str | None = None) -> None:
    """Unpack a tar+gzip ``stream`` so its single top-level entry becomes ``dest``.

    With ``sub_path`` (Argo's ``subPath``) only that part of the archive's
    content is placed at ``dest``. Extracted into a fresh sibling directory
    first and moved into place only when every member passed the checks, so a
    refused or truncated archive leaves ``dest`` untouched.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        with tarfile.open(fileobj=cast(IO[bytes], stream), mode="r|gz", bufsize=_BUFFER) as tar:
            tar.copybufsize = _BUFFER  # type: ignore[attr-defined]
            for member in tar:
                _check_member(member)
                tar.extract(member, staging, set_attrs=True, filter=_keep_modes)
        _place(staging, _content_root(staging), dest, sub_path)
    except tarfile.TarError as err:
        raise InvalidInput(f"not a valid tar+gzip archive: {err}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _keep_modes(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo:
    # Our own checks ran already; the 'data' filter adds the stdlib's guard as
    # a second line while keeping the archived permission bits.
    return tarfile.data_filter(member, path)


def _check_member(member: tarfile.TarInfo) -> None:
    name = member.name
    if name.startswith("/") or "\\" in name or "\x00" in name:
        raise UnsafeArchive(f"archive member {name!r} has an absolute or malformed name")
    parts = [p for p in posixpath.normpath(name).split("/") if p not in ("", ".")]
    if ".." in name.split("/") or not parts or parts[0] == "..":
        raise UnsafeArchive(f"archive member {name!r} escapes the target with '..'")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise UnsafeArchive(f"archive member {name!r} is a device or FIFO; refused")
    if member.issym() or member.islnk():
        target = member.linkname
        if member.issym():
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        else:
            resolved = posixpath.normpath(target)
        if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
            raise UnsafeArchive(
                f"archive member {name!r} links to {target!r}, outside the target; refused"
            )


def _content_root(staging: Path) -> Path:
    entries = list(staging.iterdir())
    if not entries:
        raise InvalidInput("the archive is empty")
    # One top-level entry is the artifact itself; several (an archive made
    # elsewhere) are the content of a directory artifact.
    return entries[0] if len(entries) == 1 else staging


def _place(staging: Path, root: Path, dest: Path, sub_path: str | None) -> None:
    chosen = root
    if sub_path:
        chosen = root / checked_relative(sub_path, "subPath")
        if not chosen.exists() and not chosen.is_symlink():
            raise InvalidInput(f"subPath {sub_path!r} is not in the artifact")
    remove_path(dest)
    if chosen == staging:  # several entries: they become dest's content
        dest.mkdir()
        for entry in chosen.iterdir():
            os.replace(entry, dest / entry.name)
        return
    os.replace(chosen, dest)


def remove_path(path: Path) -> None:
    """Remove a file, link or directory at ``path`` if there is one."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def checked_relative(path: str, field: str) -> str:
    """A relative POSIX path that stays inside its base, or a clear error naming ``field``."""
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or "\x00" in path or ".." in parts:
        raise UnsafeArchive(f"{field} {path!r} must be a relative path without '..'")
    return "/".join(p for p in parts if p not in ("", "."))


def copy_into_place(stream: Readable, dest: Path, mode: int | None = None) -> None:
    """Write a plain object to ``dest`` through a temporary file, then rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(1 << 20):
                out.write(chunk)
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, dest)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def apply_mode(dest: Path, mode: int) -> None:
    """Argo's ``mode``: set on the file, or on every file under a directory."""
    if dest.is_dir():
        for base, _dirs, files in os.walk(dest):
            for name in files:
                os.chmod(os.path.join(base, name), mode)
        return
    os.chmod(dest, mode)
