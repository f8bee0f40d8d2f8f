"""A step's private root: paths outside /tmp, as in a pod's own filesystem.

On Argo an artifact may live anywhere in the container (``/mnt/in``,
``/result.txt``, ``/outputs/…``): the pod's filesystem is its own, the
image underneath and a writable layer on top. Locally a step sees the host's
filesystem, which every step shares; placing an input at ``/art`` would write
the host's ``/`` and two parallel steps would collide.

So an attempt whose artifacts name such paths, or whose volumes are mounted
where the host has nothing (``/mnt/vol``, ``/secret/mountpath``), gets a
private root — a
directory of the attempt (``<attempt>/root``) that the step is ``chroot``'ed
into, inside its mount namespace:

* ``/`` and each host directory on the way to an artifact path are
  *mirrored*: a private directory holding a bind mount of every host entry
  of that directory (symlinks copied as symlinks), so the step still sees the
  host — its image — everywhere else;
* below the first component that is not on the host (or at an input's own
  path), everything is private: an input is placed there before the start,
  an output is read from there after the exit, a volume's mount point is
  made there, and what the step creates there never reaches the host;
* ``/tmp`` is the attempt's private /tmp, as for every step.

Decisions where Argo and a host differ, as documented in docs/engine.md: the
step's working directory is the private root's ``/`` (an image without a
``WORKDIR``), unless ``workingDir`` says otherwise; an output at a path the
host already has (``/etc/os-release``, ``/etc``) is the image's file — read
from the host, which the step sees there too; an input replaces what the host
has at its path, in the step's view only. Paths that would hide what every
program needs (``/``, ``/usr``, …, anything in ``/proc``, ``/sys``, ``/dev``)
are refused as volume mount paths are. Without a mount namespace there is no
private root: the step ends in Error naming the artifact and the reason.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from clusterforge.engine.local import reachable
from clusterforge.safety import inside
from clusterforge.workflow import mount_path_problem

_PSEUDO = ("/proc", "/sys", "/dev")


class RootError(Exception):
    """An artifact path no private root can hold (the node's Error message)."""


@dataclass(frozen=True)
class Entry:
    """One host entry of a mirrored directory: bound into the root, or a symlink copy."""

    name: str
    kind: str  # "dir", "file" (any other inode, bound as a file) or "link"
    link: str = ""


@dataclass(frozen=True)
class PrivateRoot:
    """Where one attempt's private root is, and which host directories it mirrors."""

    root: str
    mirrored: Mapping[str, tuple[Entry, ...]] = field(default_factory=dict)
    """A step directory (``/``, ``/mnt``) → the host entries bound into its mirror."""

    def host(self, path: str) -> Path:
        """Where the step's absolute ``path`` is on the host: in the root when it is
        private, the host's own when it is one of the host entries bound in."""
        parts = [p for p in posixpath.normpath(path).split("/") if p]
        directory = "/"
        for part in parts:
            if any(e.name == part for e in self.mirrored.get(directory, ())):
                return Path("/", *parts)
            directory = posixpath.join(directory, part)
            if directory not in self.mirrored:  # private: a link may not lead out of it
                return inside(Path(self.root), *parts)
        return Path(self.root, *parts)

    def make(self) -> None:
        """Create the mirrors: a placeholder for each bound entry, each symlink copied."""
        for directory, entries in self.mirrored.items():
            base = self.root + directory.rstrip("/")
            os.makedirs(base or self.root, exist_ok=True)
            for entry in entries:
                target = f"{base}/{entry.name}"
                if os.path.lexists(target):
                    continue
                if entry.kind == "dir":
                    os.mkdir(target)
                elif entry.kind == "link":
                    os.symlink(entry.link, target)
                else:
                    with open(target, "a"):
                        pass
        os.makedirs(self.root + reachable.TMP, exist_ok=True)

    def binds(self) -> list[tuple[str, str, bool]]:
        """Each bound host entry onto its placeholder: ``(source, target, readonly)``."""
        found = []
        for directory, entries in self.mirrored.items():
            for entry in entries:
                if entry.kind != "link":
                    source = posixpath.join(directory, entry.name)
                    found.append((source, self.root + source, False))
        return found


def plan(root: str, inputs: Mapping[str, str], outputs: Mapping[str, str]) -> PrivateRoot | None:
    """The private root an attempt needs, or None (all under /tmp or the working
    directory). ``inputs``: field name → a path held privately whether or not the
    host has it (an input artifact, a volume's missing mount point, see
    :func:`mount_points`); ``outputs``: field name → an output artifact's path."""
    private: dict[str, str] = {}
    for name, path in inputs.items():
        if elsewhere(path):
            private[name] = _checked(name, path)
    for name, path in outputs.items():
        if elsewhere(path):
            norm = _checked_output(name, path)
            if not os.path.lexists(norm):
                private[name] = norm
    if not private:
        return None  # outputs the host already has are read there (the image's files)
    mirrored: dict[str, set[str]] = {"/": set()}
    for name, path in private.items():
        for directory in _host_ancestors(name, path):
            mirrored.setdefault(directory, set())
        parent = posixpath.dirname(path)
        if parent in mirrored:
            mirrored[parent].add(posixpath.basename(path))
    return PrivateRoot(root, {d: _entries(d, hidden, mirrored) for d, hidden in mirrored.items()})


def mount_points(targets: Iterable[str]) -> dict[str, str]:
    """The volume mount targets the host lacks outside /tmp, by field name: each is
    made privately in a root rather than on the host (a target the host has is
    bound over in the step's namespace only, as it always was)."""
    return {
        f"volumeMounts[{i}].mountPath": target
        for i, target in enumerate(targets)
        if elsewhere(target) and not os.path.lexists(target)
    }


def elsewhere(path: str) -> bool:
    """Whether an artifact path is outside the step's /tmp and working directory."""
    return path.startswith("/") and not (path == reachable.TMP or reachable.under_tmp(path))


def _checked(name: str, path: str) -> str:
    """An input's (or a new output's) path, refused where it would hide what every
    step needs."""
    if mount_path_problem(path):
        raise RootError(
            f"{name} {path}: a private path there would hide the host's system files "
            "every step needs (/, /usr, /etc, … or anything in /proc, /sys, /dev); "
            "use a path such as /mnt/in or /tmp/…"
        )
    return posixpath.normpath(path)


def _checked_output(name: str, path: str) -> str:
    """An output may be a directory the host already has (read as the image's files,
    e.g. /etc), but not ``/`` itself nor anything in the kernel's file systems."""
    norm = posixpath.normpath(path)
    kernel = any(norm == d or norm.startswith(d + "/") for d in _PSEUDO)
    if kernel:
        raise RootError(
            f"{name} {path}: files in /proc, /sys and /dev are the kernel's view of the "
            "engine, not the step's; write the output elsewhere (e.g. /tmp/…)"
        )
    if norm in ("/", "//") or ".." in path.split("/"):
        return _checked(name, path)
    if not os.path.lexists(norm):
        return _checked(name, path)
    return norm


def _host_ancestors(name: str, path: str) -> Iterable[str]:
    """The host directories on the way to ``path`` (``/mnt`` for ``/mnt/in/x``), up
    to the first component the host lacks; a symlink on the way is refused."""
    directory = "/"
    for part in posixpath.dirname(path).split("/"):
        if not part:
            continue
        directory = posixpath.join(directory, part)
        try:
            info = os.lstat(directory)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(info.st_mode):
            raise RootError(
                f"{name} {path} passes through the host's symlink {directory}; "
                f"give the path it leads to ({os.path.realpath(directory)}/…)"
            )
        if not stat.S_ISDIR(info.st_mode):
            raise RootError(f"{name} {path}: {directory} is a file on this host")
        yield directory


def _entries(directory: str, hidden: set[str], mirrored: Mapping[str, object]) -> tuple[Entry, ...]:
    """The host entries of ``directory`` the mirror binds in: all but those the root
    holds privately (an input's own path, a deeper mirror, and ``/tmp``)."""
    found = []
    with os.scandir(directory) as listing:
        for item in listing:
            path = posixpath.join(directory, item.name)
            if item.name in hidden or path in mirrored or path == reachable.TMP:
                continue
            if item.is_symlink():
                found.append(Entry(item.name, "link", os.readlink(path)))
            else:
                found.append(Entry(item.name, "dir" if item.is_dir() else "file"))
    return tuple(sorted(found, key=lambda e: e.name))
