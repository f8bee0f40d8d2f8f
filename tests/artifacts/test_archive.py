"""Packing and safe unpacking: Argo's tarball layout, and archives that try to escape."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from clusterforge.engine.artifacts import UnsafeArchive, pack, unpack


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
