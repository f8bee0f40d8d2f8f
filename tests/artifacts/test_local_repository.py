"""The local repository: atomic objects, listings, and keys kept inside its directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clusterforge.engine.artifacts import (
    ArtifactMissing,
    LocalRepository,
    UnsafeKey,
    get_path,
    put_bytes,
    put_path,
)


def test_objects_are_written_whole_or_not_at_all(tmp_path: Path) -> None:
    repo = LocalRepository("local", tmp_path / "repo")
    put_bytes(repo, "wf/pod/a.txt", b"hello")
    with repo.reader("wf/pod/a.txt") as stream:
        assert stream.read() == b"hello"

    class Boom(Exception):
        pass

    def write_half() -> None:
        with repo.writer("wf/pod/b.txt") as out:
            out.write(b"half")
            raise Boom

    with pytest.raises(Boom):
        write_half()
    assert not repo.exists("wf/pod/b.txt")
    assert [o.key for o in repo.list("wf/")] == ["wf/pod/a.txt"]
    assert sorted(os.listdir(tmp_path / "repo" / "wf" / "pod")) == ["a.txt"]


def test_keys_cannot_leave_the_directory(tmp_path: Path) -> None:
    repo = LocalRepository("local", tmp_path / "repo")
    with pytest.raises(UnsafeKey):
        put_bytes(repo, "../outside", b"x")
    (tmp_path / "repo").mkdir()
    os.symlink(tmp_path, tmp_path / "repo" / "planted")
    with pytest.raises(UnsafeKey, match="outside the repository"):
        put_bytes(repo, "planted/evil", b"x")
    assert not (tmp_path / "evil").exists()


def test_a_directory_without_archiving_is_one_object_per_file(tmp_path: Path) -> None:
    source = tmp_path / "out"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("a")
    (source / "sub" / "b.txt").write_text("b")
    repo = LocalRepository("local", tmp_path / "repo")
    put_path(repo, "wf/pod/out", source, archived=False)
    assert [o.key for o in repo.list("wf/pod/out/")] == ["wf/pod/out/a.txt", "wf/pod/out/sub/b.txt"]
    get_path(repo, "wf/pod/out", tmp_path / "back")
    assert (tmp_path / "back" / "sub" / "b.txt").read_text() == "b"
    get_path(repo, "wf/pod/out", tmp_path / "only-b", sub_path="sub/b.txt")
    assert (tmp_path / "only-b").read_text() == "b"


def test_an_archived_directory_comes_back_at_any_path_with_mode(tmp_path: Path) -> None:
    source = tmp_path / "out"
    source.mkdir()
    (source / "x.sh").write_text("echo\n")
    repo = LocalRepository("local", tmp_path / "repo")
    put_path(repo, "wf/pod/out.tgz", source, archived=True)
    get_path(repo, "wf/pod/out.tgz", tmp_path / "elsewhere" / "dir", mode=0o700)
    assert (tmp_path / "elsewhere" / "dir" / "x.sh").read_text() == "echo\n"
    assert os.stat(tmp_path / "elsewhere" / "dir" / "x.sh").st_mode & 0o777 == 0o700


def test_a_missing_key_is_reported_as_missing(tmp_path: Path) -> None:
    repo = LocalRepository("local", tmp_path / "repo")
    with pytest.raises(ArtifactMissing, match="no artifact 'nope'"):
        get_path(repo, "nope", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_an_unarchived_tree_of_small_and_large_files_round_trips(tmp_path: Path) -> None:
    """Small objects move several at a time, large ones one by one; a plain file comes
    back by sendfile after the bytes read to tell whether it is a tarball."""
    source = tmp_path / "out"
    expected = {}
    for index in range(60):
        path = source / f"d{index % 4}" / f"f{index}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(index * 97))
        expected[path.relative_to(source)] = path.read_bytes()
    for name in ("big-1.bin", "big-2.bin"):
        (source / name).write_bytes(os.urandom((3 << 20) + 5))
        expected[Path(name)] = (source / name).read_bytes()
    repo = LocalRepository("local", tmp_path / "repo")
    put_path(repo, "wf/pod/out", source, archived=False)
    get_path(repo, "wf/pod/out", tmp_path / "back")
    back = tmp_path / "back"
    assert {p.relative_to(back): p.read_bytes() for p in back.rglob("*") if p.is_file()} == expected
    put_path(repo, "wf/pod/one.bin", source / "big-1.bin", archived=False)
    get_path(repo, "wf/pod/one.bin", tmp_path / "one.bin")
    assert (tmp_path / "one.bin").read_bytes() == expected[Path("big-1.bin")]


def test_a_tree_with_a_link_or_a_hidden_file_goes_object_by_object(tmp_path: Path) -> None:
    """cp -r would copy a link as a link; one object per regular file skips it, as Argo."""
    source = tmp_path / "out"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "a.txt").write_text("a")
    os.symlink("/etc/hostname", source / "link")
    repo = LocalRepository("local", tmp_path / "repo")
    put_path(repo, "wf/pod/out", source, archived=False)
    assert [o.key for o in repo.list("wf/pod/out/")] == ["wf/pod/out/sub/a.txt"]
    get_path(repo, "wf/pod/out", tmp_path / "back")
    assert sorted(p.name for p in (tmp_path / "back").rglob("*")) == ["a.txt", "sub"]


def test_a_whole_tree_copy_leaves_nothing_hidden_and_replaces_the_destination(
    tmp_path: Path,
) -> None:
    source = tmp_path / "out"
    (source / "d").mkdir(parents=True)
    (source / "d" / "x.txt").write_text("x")
    repo = LocalRepository("local", tmp_path / "repo")
    put_path(repo, "wf/pod/out", source, archived=False)
    (source / "d" / "x.txt").write_text("second")
    put_path(repo, "wf/pod/out", source, archived=False)  # the key exists: object by object
    dest = tmp_path / "dest"
    (dest / "old").mkdir(parents=True)
    get_path(repo, "wf/pod/out", dest)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == ["d", "d/x.txt"]
    assert (dest / "d" / "x.txt").read_text() == "second"
    hidden = list((tmp_path / "repo").rglob(".*")) + list(tmp_path.glob(".*"))
    assert hidden == []
