"""Packing an output path into one object, and unpacking one safely.

Argo stores an output artifact as a tarball (gzip, default level) unless the
template says ``archive: {none: {}}`` (a file as is) or picks a
``tar.compressionLevel`` (0 still writes gzip framing, uncompressed). An input
artifact that is a tarball is unpacked at its ``path``: a tarball holding a
single file becomes that file, one holding a directory becomes that directory.

The system's GNU ``tar`` does the filesystem work when there is one (Python's
``tarfile`` costs about 0.3 ms a member, seconds for 10,000 small files; with
``tar`` packing and unpacking run at the speed of ``tar -cz``/``tar -xz``),
called with argument lists, never a shell. gzip is zlib in this process, in
1 MiB chunks, so memory stays flat whatever the size; ``tarfile``'s stream
modes are the fallback when there is no GNU tar.

Unpacking runs on data that may come from anywhere (a repository another
workflow wrote, an HTTP URL), so every member is checked before anything is
written (:mod:`._members`; with ``tar``, :class:`._tarscan.TarScanner` checks
each header before ``tar`` reads it): an absolute name, a ``..`` segment, a
link whose target leaves the destination, a device or FIFO — the whole
archive is refused and nothing is left behind.
"""

from __future__ import annotations

import functools
import gzip
import io
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, Protocol, cast

from clusterforge.engine.artifacts._members import MemberChecker, UnsafeArchive
from clusterforge.engine.artifacts._tarscan import TarScanner
from clusterforge.errors import InvalidInput

__all__ = ["UnsafeArchive"]

DEFAULT_LEVEL = zlib.Z_DEFAULT_COMPRESSION
"""gzip's default level, which Argo uses when ``tar`` names no level."""

_GZIP_MAGIC = b"\x1f\x8b"
_BUFFER = 64 * 1024
"""tarfile's stream buffer (10 KiB by default) and copy chunk: its stream slices its buffer by
copying, so a large buffer costs as much as a small one; 64 KiB measured best."""
_CHUNK = 256 * 1024
"""Bytes compressed, inflated or read at once: zlib on 256 KiB stays in the CPU's cache (1 MiB
chunks took twice the CPU for level 0 on this machine)."""
_PIPE = 1 << 20
"""The pipe buffer asked for, and ``tar``'s record size."""
_INFLATE_LIMIT = 1 << 20
"""At most this much decompressed output per call: a gzip bomb cannot grow memory."""
_RECORD = f"--blocking-factor={_PIPE // 512}"
"""tar reads and writes 1 MiB at a time (its default, 10 KiB, makes one pipe hand-off between
tar and this process per 10 KiB: seconds per GiB on a busy machine)."""
_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ (Linux; Python 3.10+ names it, typeshed may not)


class Readable(Protocol):
    """Anything with ``read(n)``: a file, an HTTP body, an S3 object body."""

    def read(self, size: int = -1, /) -> bytes: ...


class ArchiveFailed(InvalidInput):
    """``tar`` could not read the output path (or write the input's)."""


@functools.cache
def system_tar() -> str | None:
    """The path of GNU tar, or None (then ``tarfile`` packs and unpacks)."""
    found = shutil.which("tar")
    if found is None:
        return None
    try:
        version = subprocess.run(
            [found, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found if "GNU tar" in version.stdout else None


def pack(source: Path, out: IO[bytes], level: int = DEFAULT_LEVEL) -> None:
    """Write ``source`` (a file or a directory) to ``out`` as tar+gzip.

    The single top-level entry is named after ``source``'s basename, as Argo
    names it, so unpacking at another path renames it there.
    """
    gzip_level = 6 if level < 0 else min(level, 9)
    tar = system_tar()
    if tar is None:
        _pack_tarfile(source, out, gzip_level)
        return
    deflate = zlib.compressobj(gzip_level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    if source.is_file() and not source.is_symlink():
        _pack_file(source, out, deflate)
    else:
        argv = [tar, "--create", "--file=-", "--format=gnu", "--numeric-owner", _RECORD]
        argv += ["--directory", str(source.parent), "--", source.name]
        with _tar_process(argv, reading=True) as proc:
            assert proc.stdout is not None
            fd = proc.stdout.fileno()
            while chunk := os.read(fd, _CHUNK):
                out.write(deflate.compress(chunk))
    out.write(deflate.flush())


def _pack_file(source: Path, out: IO[bytes], deflate: Any) -> None:
    """One regular file as a tar stream: its header, its bytes, padding, the end blocks.

    No ``tar`` process for this: one file is a copy, and a pipe hand-off per
    chunk between two processes costs more than the copy on a busy machine.
    """
    with source.open("rb") as handle:
        info = tarfile.TarInfo(source.name)
        stat_ = os.fstat(handle.fileno())
        info.size, info.mode, info.mtime = (
            stat_.st_size,
            stat.S_IMODE(stat_.st_mode),
            stat_.st_mtime,
        )
        out.write(deflate.compress(info.tobuf(tarfile.GNU_FORMAT)))
        buffer = bytearray(_CHUNK)
        left = info.size
        while left > 0:
            count = handle.readinto(buffer)
            if not count:
                raise ArchiveFailed(f"{source} shrank while it was archived")
            count = min(count, left)
            out.write(deflate.compress(memoryview(buffer)[:count]))
            left -= count
    padding = -info.size % 512
    out.write(deflate.compress(bytes(padding + 1024)))


def _pack_tarfile(source: Path, out: IO[bytes], gzip_level: int) -> None:
    # tarfile's stream mode takes no compresslevel before Python 3.12: gzip it here.
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=gzip_level, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT, bufsize=_BUFFER) as tar,
    ):
        tar.copybufsize = _BUFFER  # type: ignore[attr-defined]  # real since 3.8; not in typeshed
        tar.add(str(source), arcname=source.name, recursive=True)


@contextmanager
def _tar_process(argv: list[str], *, reading: bool) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``tar``; on leaving, wait for it and turn a failure into :class:`ArchiveFailed`.

    Its stderr goes to a file (a pipe could fill and stall it); if the block
    raises, ``tar`` is killed and the block's error stands.
    """
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL if reading else subprocess.PIPE,
            stdout=subprocess.PIPE if reading else subprocess.DEVNULL,
            stderr=errors,
        )
        pipe = proc.stdout if reading else proc.stdin
        assert pipe is not None
        with suppress(OSError):
            import fcntl

            fcntl.fcntl(pipe.fileno(), _F_SETPIPE_SZ, _PIPE)
        try:
            yield proc
        except BaseException:
            proc.kill()
            raise
        finally:
            with suppress(OSError):
                pipe.close()
            code = proc.wait()
        if code:
            errors.seek(0)
            said = errors.read(4096).decode(errors="replace").strip().splitlines()
            raise ArchiveFailed(f"tar exited {code}: {said[-1] if said else 'no message'}")


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
        tar = system_tar()
        if tar is None:
            _unpack_tarfile(stream, staging)
        else:
            _unpack_tar(tar, stream, staging)
        _place(staging, _content_root(staging), dest, sub_path)
    except (tarfile.TarError, zlib.error, EOFError) as err:
        raise InvalidInput(f"not a valid tar+gzip archive: {err}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _unpack_tarfile(stream: Readable, staging: Path) -> None:
    with tarfile.open(fileobj=cast(IO[bytes], stream), mode="r|gz", bufsize=_BUFFER) as tar:
        tar.copybufsize = _BUFFER  # type: ignore[attr-defined]
        checker = MemberChecker()
        for member in tar:
            _check_member(checker, member)
            tar.extract(member, staging, set_attrs=True, filter=_keep_modes)


def _unpack_tar(tar: str, stream: Readable, staging: Path) -> None:
    """Inflate here, check every header (:class:`TarScanner`), let ``tar -x`` write."""
    argv = [
        tar,
        "--extract",
        "--file=-",
        "--directory",
        str(staging),
        _RECORD,
        "--read-full-records",
    ]
    argv += ["--no-same-owner", "--preserve-permissions", "--warning=no-timestamp"]
    scanner = TarScanner()
    stopped = False
    with _tar_process(argv, reading=False) as proc:
        assert proc.stdin is not None
        sink = proc.stdin.fileno()
        for chunk in inflate(stream):
            if scanner.ended:
                continue  # after the end-of-archive block: verified (gzip's CRC), not used
            pieces = scanner.feed(chunk)
            try:
                _write_all(sink, pieces)
            except BrokenPipeError:
                stopped = True  # tar quit: its exit code and message say why, on leaving
                break
            if scanner.ended:
                proc.stdin.close()
        if not stopped:
            scanner.finish()
    if stopped:
        raise ArchiveFailed("tar stopped reading the archive before its end")
    _check_links(staging, scanner.members.symlinks)


def _write_all(fd: int, pieces: list[bytes | memoryview]) -> None:
    data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def inflate(stream: Readable) -> Iterator[bytes]:
    """The decompressed bytes of a gzip ``stream`` (members one after another), in chunks."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    open_member = False
    while chunk := stream.read(_CHUNK):
        while chunk:
            if not open_member and not chunk.strip(b"\x00"):
                break  # zero padding after the last member, as gzip(1) allows
            open_member = True
            data = inflater.decompress(chunk, _INFLATE_LIMIT)
            if data:
                yield data
            if inflater.eof:
                chunk, open_member = inflater.unused_data, False
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                chunk = inflater.unconsumed_tail
    if open_member:
        raise InvalidInput("not a valid tar+gzip archive: the gzip stream is truncated")


def _check_links(staging: Path, symlinks: list[str]) -> None:
    """Every symbolic link the archive made still resolves inside it, chains included."""
    root = os.path.realpath(staging)
    for name in symlinks:
        target = os.path.realpath(os.path.join(root, name))
        if target != root and not target.startswith(root + os.sep):
            raise UnsafeArchive(f"archive member {name!r} links outside the target; refused")


def _keep_modes(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo:
    # Our own checks ran already; the 'data' filter adds the stdlib's guard as
    # a second line while keeping the archived permission bits.
    return tarfile.data_filter(member, path)


def _check_member(checker: MemberChecker, member: tarfile.TarInfo) -> None:
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise UnsafeArchive(f"archive member {member.name!r} is a device or FIFO; refused")
    kind = "symlink" if member.issym() else "hardlink" if member.islnk() else "file"
    checker.check(member.name, kind, member.linkname)


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


def copy_into_place(
    stream: Readable, dest: Path, mode: int | None = None, *, head: bytes = b""
) -> None:
    """Write a plain object (``head``, already read, then the rest of ``stream``) to
    ``dest`` through a temporary file, then rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(head)
            copy_stream(stream, out)
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, dest)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def copy_stream(source: Readable, out: IO[bytes]) -> None:
    """Copy ``source`` from its position to its end into ``out``: by ``sendfile`` when
    ``source`` is a regular file and ``out`` has a descriptor, else in 1 MiB chunks."""
    span = _file_span(source)
    if span is None:
        while chunk := source.read(_CHUNK):
            out.write(chunk)
        return
    in_fd, offset, left = span
    try:
        out_fd = out.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        out_fd = -1
    if out_fd < 0:
        while chunk := source.read(_CHUNK):
            out.write(chunk)
        return
    out.flush()  # what was written before goes first
    while left > 0:
        sent = os.sendfile(out_fd, in_fd, offset, min(left, 1 << 30))
        if not sent:
            break
        offset, left = offset + sent, left - sent


def _file_span(source: Readable) -> tuple[int, int, int] | None:
    """(descriptor, position, bytes left) of a regular file; None for anything else."""
    try:
        fd = source.fileno()  # type: ignore[attr-defined]
        info = os.fstat(fd)
        position = int(source.tell())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return fd, position, info.st_size - position


def apply_mode(dest: Path, mode: int) -> None:
    """Argo's ``mode``: set on the file, or on every file under a directory."""
    if dest.is_dir():
        for base, _dirs, files in os.walk(dest):
            for name in files:
                os.chmod(os.path.join(base, name), mode)
        return
    os.chmod(dest, mode)
