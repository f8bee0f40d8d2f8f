"""Packing and safe unpacking: Argo's tarball layout, and archives that try to escape.

Every test runs twice: with the system's GNU tar (its headers checked by the
stream scanner before ``tar -x`` reads them) and with ``tarfile``, the
fallback when there is no GNU tar.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from clusterforge.engine.artifacts import UnsafeArchive, _archive, pack, unpack
from clusterforge.errors import InvalidInput


@pytest.fixture(autouse=True, params=["gnu-tar", "tarfile"])
def unpacker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "gnu-tar":
        if _archive.system_tar() is None:
            pytest.fail("GNU tar is not installed; the system-tar path cannot be tested")
    else:
        monkeypatch.setattr(_archive, "system_tar", lambda: None)
    return str(request.param)


def _tarball(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    buffer.seek(0)
    return buffer


def _file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def _round_trip(source: Path, dest: Path, level: int = -1) -> None:
    buffer = io.BytesIO()
    pack(source, buffer, level=level)
    buffer.seek(0)
    unpack(buffer, dest)


def test_a_file_round_trips_under_a_new_name(tmp_path: Path) -> None:
    source = tmp_path / "hello.txt"
    source.write_text("hello world\n")
    buffer = io.BytesIO()
    pack(source, buffer)
    buffer.seek(0)
    with tarfile.open(fileobj=buffer, mode="r:gz") as tar:
        assert tar.getnames() == ["hello.txt"]
    buffer.seek(0)
    unpack(buffer, tmp_path / "out" / "message")
    assert (tmp_path / "out" / "message").read_text() == "hello world\n"


def test_a_directory_round_trips_with_modes_and_inner_links(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(source / "sub" / "run.sh", 0o755)  # noqa: S103 — an executable to round-trip
    os.symlink("sub/run.sh", source / "link")
    buffer = io.BytesIO()
    pack(source, buffer, level=0)
    buffer.seek(0)
    dest = tmp_path / "dest"
    unpack(buffer, dest)
    assert (dest / "sub" / "run.sh").read_text() == "#!/bin/sh\n"
    assert os.stat(dest / "sub" / "run.sh").st_mode & 0o777 == 0o755
    assert os.readlink(dest / "link") == "sub/run.sh"


def test_sub_path_picks_one_entry(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "a").mkdir(parents=True)
    (source / "a" / "b.txt").write_text("b")
    buffer = io.BytesIO()
    pack(source, buffer)
    buffer.seek(0)
    unpack(buffer, tmp_path / "b", sub_path="a/b.txt")
    assert (tmp_path / "b").read_text() == "b"


@pytest.mark.parametrize(
    ("member", "says"),
    [
        (_file("/etc/evil"), "absolute"),
        (_file("../evil"), "'..'"),
        (_file("ok/../../evil"), "'..'"),
        (_link("ok/link", "/etc/passwd"), "outside the target"),
        (_link("ok/link", "../../etc"), "outside the target"),
        (_link("ok/hard", "../x", tarfile.LNKTYPE), "outside the target"),
    ],
)
def test_escaping_members_are_refused_and_nothing_is_written(
    tmp_path: Path, member: tuple[tarfile.TarInfo, bytes | None], says: str
) -> None:
    archive = _tarball([_file("ok/fine.txt"), member])
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchive, match=says):
        unpack(archive, dest)
    assert sorted(os.listdir(tmp_path)) == []


def test_a_device_member_is_refused(tmp_path: Path) -> None:
    info = tarfile.TarInfo("ok/dev")
    info.type = tarfile.CHRTYPE
    with pytest.raises(UnsafeArchive, match="device"):
        unpack(_tarball([(info, None)]), tmp_path / "dest")


def test_a_sub_path_with_dots_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsafeArchive, match="subPath"):
        unpack(_tarball([_file("ok/fine.txt")]), tmp_path / "dest", sub_path="../x")


def test_a_truncated_archive_leaves_the_old_content(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.write_text("previous")
    data = _tarball([_file("ok/big.bin", os.urandom(200_000))]).getvalue()
    with pytest.raises(Exception, match="tar"):
        unpack(io.BytesIO(data[: len(data) // 2]), dest)
    assert dest.read_text() == "previous"
    assert sorted(os.listdir(tmp_path)) == ["dest"]


def _raw_tar(members: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_long_names_that_escape_are_refused(tmp_path: Path, fmt: int) -> None:
    """Names past 100 bytes travel in pax records or GNU long-name members."""
    name = "a" * 120 + "/../../evil"
    archive = io.BytesIO(gzip.compress(_raw_tar([_file(name)], fmt)))
    with pytest.raises(UnsafeArchive, match=r"'\.\.'"):
        unpack(archive, tmp_path / "dest")
    assert sorted(os.listdir(tmp_path)) == []


@pytest.mark.parametrize(
    "members",
    [
        [_link("ok/link", "sub"), _file("ok/link/x")],  # a file written through a link
        [_link("x/y", ".."), _link("x/y/z", "..")],  # a chain that climbs out
        [_link("z", "x/y/.."), _link("x/y", "../..")],  # a target through a later link
        [_link("s", "d"), _link("h", "s/f", tarfile.LNKTYPE)],  # a hard link through a link
    ],
)
def test_members_that_go_through_links_are_refused(
    tmp_path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]
) -> None:
    with pytest.raises(UnsafeArchive):
        unpack(_tarball([(tarfile.TarInfo("x"), None), *members]), tmp_path / "dest")
    assert sorted(os.listdir(tmp_path)) == []


def test_setuid_and_group_write_bits_are_dropped(tmp_path: Path) -> None:
    info, data = _file("ok/tool", b"#!/bin/sh\n")
    info.mode = 0o6777
    unpack(_tarball([(info, data)]), tmp_path / "dest")
    assert stat.S_IMODE(os.stat(tmp_path / "dest" / "tool").st_mode) == 0o755


def test_members_after_the_end_of_the_archive_are_not_extracted(tmp_path: Path) -> None:
    first = _raw_tar([_file("ok/a.txt", b"a")], tarfile.GNU_FORMAT)
    second = _raw_tar([_file("ok/b.txt", b"b")], tarfile.GNU_FORMAT)
    unpack(io.BytesIO(gzip.compress(first + second)), tmp_path / "dest")
    assert os.listdir(tmp_path / "dest") == ["a.txt"]


def test_a_corrupt_header_is_not_read_past(tmp_path: Path, unpacker: str) -> None:
    """GNU tar would skip to the next header-like block; the scanner refuses, tarfile stops."""
    members = [_file("ok/a.txt", b"a"), _file("ok/b.txt", b"b")]
    data = bytearray(_raw_tar(members, tarfile.GNU_FORMAT))
    data[1024 + 10] ^= 0x01  # the second member's name: its checksum no longer matches
    archive = io.BytesIO(gzip.compress(bytes(data)))
    if unpacker == "tarfile":
        unpack(archive, tmp_path / "dest")
        assert os.listdir(tmp_path / "dest") == ["a.txt"]
        return
    with pytest.raises(InvalidInput, match="checksum"):
        unpack(archive, tmp_path / "dest")
    assert sorted(os.listdir(tmp_path)) == []


def test_a_name_that_looks_like_an_option_round_trips(tmp_path: Path) -> None:
    """The basename reaches tar after ``--``: never read as one of its options."""
    source = tmp_path / "--to-command=false"
    source.write_text("data")
    _round_trip(source, tmp_path / "out")
    assert (tmp_path / "out").read_text() == "data"


def test_a_global_header_that_names_members_is_refused(tmp_path: Path, unpacker: str) -> None:
    buffer = io.BytesIO()
    with tarfile.open(
        fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"path": "../evil"}
    ) as tar:
        info, data = _file("ok/a.txt")
        tar.addfile(info, io.BytesIO(data))
    # The scanner refuses the global header; tarfile applies it, and the name is refused.
    with pytest.raises(UnsafeArchive, match="global" if unpacker == "gnu-tar" else "'..'"):
        unpack(io.BytesIO(gzip.compress(buffer.getvalue())), tmp_path / "dest")


def test_sparse_members_are_refused_by_the_scanner(tmp_path: Path, unpacker: str) -> None:
    info, data = _file("ok/sparse", b"")
    info.type = tarfile.GNUTYPE_SPARSE
    archive = io.BytesIO(gzip.compress(_raw_tar([(info, data)], tarfile.GNU_FORMAT)))
    if unpacker == "tarfile":  # tarfile reads a GNU sparse member as a plain file
        unpack(archive, tmp_path / "d")
        assert (tmp_path / "d").exists()
        return
    with pytest.raises(UnsafeArchive, match="tar type"):
        unpack(archive, tmp_path / "d")


def test_a_large_tree_round_trips(tmp_path: Path) -> None:
    source = tmp_path / "tree"
    for index in range(300):
        (source / f"d{index // 50}").mkdir(parents=True, exist_ok=True)
        (source / f"d{index // 50}" / f"f{index}").write_bytes(os.urandom(index))
    (source / "big.bin").write_bytes(os.urandom(3 << 20))
    _round_trip(source, tmp_path / "copy", level=0)
    for path in source.rglob("*"):
        if path.is_file():
            assert (tmp_path / "copy" / path.relative_to(source)).read_bytes() == path.read_bytes()


def test_a_single_large_file_is_a_tarball_gnu_tar_reads(tmp_path: Path) -> None:
    """One file is written as a tar stream here (no tar process): tar itself must read it."""
    source = tmp_path / "data.bin"
    source.write_bytes(os.urandom((600 << 10) + 3))  # several chunks, not block-aligned
    with (tmp_path / "data.tgz").open("wb") as out:
        pack(source, out, level=1)
    listing = subprocess.run(
        ["tar", "-tvzf", str(tmp_path / "data.tgz")], capture_output=True, text=True, check=True
    )
    assert listing.stdout.split()[2] == str(source.stat().st_size)
    with (tmp_path / "data.tgz").open("rb") as archive:
        unpack(archive, tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
