"""Checking a tar stream's members as its bytes pass, before ``tar -x`` sees them.

The system ``tar`` unpacks artifacts (Python's ``tarfile`` costs about 0.3 ms
a member; 10,000 small files took seconds). An archive may come from
anywhere, so the stream goes through :class:`TarScanner` on its way to
``tar``'s stdin: every header is parsed and checked, and only the bytes up
to the last checked header are passed on — ``tar`` never reads a header this
module has not accepted. Refused: absolute names, ``..`` segments, names or
link targets that pass through a symbolic link the archive made earlier,
links whose target leaves the archive, devices and FIFOs, any member type
other than file/directory/link (sparse files, volume labels, GNU dump
directories), bad header checksums (``tar`` would skip forward and read data
as headers), data on a member that carries none, and global headers that set
names. Each mode is masked to ``0o755`` (no setuid, setgid, sticky or
group/other write — as ``tarfile``'s ``data`` filter does) in the header
itself, with its checksum rewritten. At the first end-of-archive block the
scanner passes two zero blocks and nothing more, so members after it are
never extracted.

Formats: POSIX ustar (with its name prefix), pax extended headers
(``path``, ``linkpath``, ``size``), GNU long names and long links, and GNU's
base-256 sizes — what GNU tar, bsdtar, Go's ``archive/tar`` (Argo) and
``tarfile`` write.
"""

from __future__ import annotations

from clusterforge.engine.artifacts._members import MemberChecker, UnsafeArchive
from clusterforge.errors import InvalidInput

BLOCK = 512
MAX_META = 1 << 20
"""A pax header or GNU long name larger than this is refused (names are a few KiB at most)."""

_END = bytes(2 * BLOCK)
_REGULAR = frozenset(b"07\x00")
_LINKS = frozenset(b"12")
_DEVICES = frozenset(b"346")
_META = frozenset(b"xgLK")
_KIND_NAMES = {ord("1"): "hardlink", ord("2"): "symlink"}


class TarScanner:
    """Feed raw tar bytes; get back the prefix that is safe to pass on."""

    def __init__(self) -> None:
        self._pending = bytearray()  # an incomplete header (or meta member) not yet passed on
        self._skip = 0  # data bytes (with padding) of an accepted member still to pass
        self._meta_size = 0  # bytes of the meta member at the head of _pending, once known
        self._pax: dict[str, str] = {}
        self._long_name: str | None = None
        self._long_link: str | None = None
        self.members = MemberChecker()
        self.ended = False

    def feed(self, data: bytes | memoryview) -> list[bytes | memoryview]:
        """The pieces of ``data`` (with what was held back) that may go to ``tar`` now."""
        view = memoryview(data)
        out: list[bytes | memoryview] = []
        while view and not self.ended:
            if self._skip:
                take = min(self._skip, len(view))
                out.append(view[:take])
                self._skip -= take
                view = view[take:]
                continue
            need = (self._meta_size or BLOCK) - len(self._pending)
            self._pending += view[:need]
            view = view[need:]
            if len(self._pending) < (self._meta_size or BLOCK):
                break
            ready = self._header()
            if ready is not None:
                out.append(ready)
        return out

    def finish(self) -> None:
        """The input ended: refuse an archive cut off before its end-of-archive block."""
        if not self.ended:
            raise InvalidInput(
                "not a valid tar archive: it ends before its last member is complete"
            )

    def _header(self) -> bytes | None:
        """Handle a complete block (or meta member) in ``_pending``; bytes to pass, if any."""
        block = bytes(self._pending[:BLOCK])
        if not self._meta_size and block == bytes(BLOCK):
            self.ended = True
            self._pending.clear()
            return _END
        _verify_checksum(block)
        kind = block[156]
        size = _size(block[124:136])
        if kind in _META:
            if not self._meta_size:
                if size > MAX_META:
                    raise UnsafeArchive(f"a tar metadata member of {size} bytes; refused")
                self._meta_size = BLOCK + _padded(size)
                if self._meta_size > BLOCK:
                    return None  # its data is read before it is passed on
            self._meta(kind, bytes(self._pending[BLOCK : BLOCK + size]))
            done, self._meta_size = bytes(self._pending), 0
            self._pending.clear()
            return done
        self._pending.clear()
        return self._member(block, kind, size)

    def _meta(self, kind: int, data: bytes) -> None:
        if kind in b"LK":
            text = data.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")
            if kind == ord("L"):
                self._long_name = text
            else:
                self._long_link = text
            return
        records = _pax_records(data)
        if kind == ord("g"):
            named = sorted({"path", "linkpath", "size"} & records.keys())
            if named or any(k.startswith("GNU.sparse") for k in records):
                raise UnsafeArchive(f"a global tar header sets {named or 'sparse'}; refused")
            return
        if any(k.startswith("GNU.sparse") for k in records):
            raise UnsafeArchive("a sparse member in the archive; refused")
        self._pax = records

    def _member(self, block: bytes, kind: int, size: int) -> bytes:
        pax, self._pax = self._pax, {}
        name = pax.get("path") or self._long_name or _name(block)
        link = pax.get("linkpath") or self._long_link or _text(block[157:257])
        self._long_name = self._long_link = None
        if "size" in pax:
            size = _pax_size(pax["size"])
        if kind in _DEVICES:
            raise UnsafeArchive(f"archive member {name!r} is a device or FIFO; refused")
        is_dir = kind == ord("5") or (kind == 0 and name.endswith("/"))
        if not (kind in _REGULAR or kind in _LINKS or is_dir):
            raise UnsafeArchive(f"archive member {name!r} has tar type {chr(kind)!r}; refused")
        if size and (is_dir or kind in _LINKS):
            raise UnsafeArchive(f"archive member {name!r} is not a file but carries data; refused")
        kind_name = (
            "dir" if is_dir else {ord("1"): "hardlink", ord("2"): "symlink"}.get(kind, "file")
        )
        self.members.check(name, kind_name, link)
        self._skip = _padded(size)
        return _masked(block, is_dir)


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _text(field: bytes) -> str:
    return field.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")


def _name(block: bytes) -> str:
    name = _text(block[0:100])
    # The ustar prefix, as GNU tar reads it: only under POSIX's magic (GNU's old
    # format keeps other fields there).
    if block[257:263] == b"ustar\x00":
        prefix = _text(block[345:500])
        if prefix:
            return f"{prefix}/{name}"
    return name


def _size(field: bytes) -> int:
    if field[0] & 0x80:  # GNU base-256
        if field[0] != 0x80:
            raise InvalidInput("not a valid tar archive: a negative member size")
        return int.from_bytes(field[1:], "big")
    text = field.replace(b"\x00", b" ").strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise InvalidInput("not a valid tar archive: a member size is not a number") from None


def _pax_size(text: str) -> int:
    if not text.isdigit():
        raise InvalidInput(f"not a valid tar archive: pax size {text!r}")
    return int(text)


def _verify_checksum(block: bytes) -> None:
    stored = block[148:156].replace(b"\x00", b" ").strip()
    try:
        value = int(stored, 8)
    except ValueError:
        value = -1
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    if value == unsigned:
        return
    # Some old tars summed signed chars; tar accepts either.
    high = sum(1 for b in block[:148] + block[156:] if b > 127)
    if value != unsigned - 256 * high:
        raise InvalidInput("not a valid tar archive: a header's checksum is wrong")


def _pax_records(data: bytes) -> dict[str, str]:
    """``<len> <key>=<value>\\n`` records; a malformed one refuses the archive."""
    records: dict[str, str] = {}
    at = 0
    while at < len(data) and data[at] != 0:
        space = data.find(b" ", at)
        try:
            length = int(data[at:space])
        except ValueError:
            raise InvalidInput("not a valid tar archive: a malformed pax record") from None
        record = data[space + 1 : at + length]
        if length <= 0 or not record.endswith(b"\n") or b"=" not in record:
            raise InvalidInput("not a valid tar archive: a malformed pax record")
        key, _, value = record[:-1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        at += length
    return records


def _masked(block: bytes, is_dir: bool) -> bytes:
    """The header with its mode masked like ``tarfile``'s data filter, checksum rewritten."""
    try:
        mode = int(block[100:108].replace(b"\x00", b" ").strip() or b"0", 8)
    except ValueError:
        raise InvalidInput("not a valid tar archive: a mode is not a number") from None
    safe = (mode & 0o755) | (0o700 if is_dir else 0o600)
    if not is_dir and not mode & 0o100:
        safe &= ~0o111
    if safe == mode:
        return block
    header = bytearray(block)
    header[100:108] = b"%07o\x00" % safe
    header[148:156] = b"        "
    header[148:156] = b"%06o\x00 " % sum(header)
    return bytes(header)
