"""Unarchived directories in the local repository, copied whole by ``cp -r``.

A directory stored with ``archive: none`` is one object per file; in the
local repository the objects of ``key/`` are the files of one directory.
Moving them one object at a time costs a temporary file, a rename and
Python's bookkeeping per file — about 0.3 ms each, seconds for 10,000 small
files, where ``cp -r`` takes a fraction of one. So when the tree is plain
(directories and regular files only, no hidden names: a hidden name in the
repository is a write in progress) it is copied by ``cp -r`` (an argument
list, never a shell) into a hidden sibling and renamed into place whole, so a
reader never sees part of it. Modes are not kept (``--no-preserve=mode``),
as objects moved one by one do not keep them. Anything else — a link, a hidden file, a key
that exists already, a subPath that names one file — returns False and the
caller moves objects one by one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from clusterforge.engine.artifacts._local import LocalRepository
from clusterforge.errors import OperationFailed


class CopyFailed(OperationFailed):
    """``cp`` could not copy a tree."""


def put_tree(repo: object, key: str, source: Path) -> bool:
    """Store the plain directory ``source`` as the objects under ``key``; False if not done."""
    if not isinstance(repo, LocalRepository) or not _plain(source):
        return False
    target = repo.tree_path(key)
    if target.exists() or target.is_symlink():
        return False
    _copy_into(source, target)
    return True


def get_tree(repo: object, key: str, dest: Path) -> bool:
    """Place the plain directory of objects under ``key`` at ``dest``; False if not done."""
    if not isinstance(repo, LocalRepository):
        return False
    source = repo.tree_path(key)
    if source.is_symlink() or not source.is_dir() or not _plain(source):
        return False
    _copy_into(source, dest)
    return True


def _plain(root: Path) -> bool:
    """Only directories and regular files, none hidden, at least one file."""
    stack, files = [str(root)], 0
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.name.startswith(".") or entry.is_symlink():
                    return False
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    files += 1
                else:
                    return False
    return files > 0


def _copy_into(source: Path, target: Path) -> None:
    """``cp -r source/. <hidden sibling>``, then the sibling replaces ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        done = subprocess.run(
            ["cp", "-r", "--no-preserve=mode", "--", f"{source}/.", str(staging)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            said = done.stderr.strip().splitlines()
            raise CopyFailed(f"cannot copy {source}: {said[-1] if said else 'cp failed'}")
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
