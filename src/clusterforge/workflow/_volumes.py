"""Where a volume may be mounted in a local step, checked before anything runs.

Locally a ``volumeMounts`` entry is a bind mount inside the step's private
mount namespace (see ``engine/local/volumes.py``). A mount over ``/usr`` or
``/proc`` would not fail: it would silently hide the programs and kernel
files every step needs, and the step would die of something unrelated. So a
mountPath that is — or, for the kernel's pseudo file systems, is inside — a
system directory is refused with the fix, and so is ``/tmp`` itself, which is
already each step's own.
"""

from __future__ import annotations

import posixpath

__all__ = ["SYSTEM_DIRS", "mount_path_problem"]

SYSTEM_DIRS: tuple[str, ...] = (
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var",
)
"""Mounting exactly here would hide what every program needs."""

_PSEUDO = ("/proc", "/sys", "/dev")
"""Nothing may be mounted anywhere inside these (kernel interfaces)."""


def mount_path_problem(path: str) -> str | None:
    """Why ``path`` cannot be a local mountPath (with the fix), or None."""
    if not path.startswith("/"):
        return f"mountPath {path!r} is not absolute; give an absolute path such as /mnt/data"
    if ".." in path.split("/"):
        return f"mountPath {path!r} contains '..'; give the directory itself"
    norm = posixpath.normpath(path)
    if norm == "//":
        norm = "/"
    if norm == "/tmp":  # noqa: S108 — a mountPath, compared, never created
        return (
            "mountPath /tmp would replace the step's private /tmp; mount the volume "
            "at a directory inside it (e.g. /tmp/data) or elsewhere (e.g. /mnt/data)"
        )
    shadowed = norm if norm in SYSTEM_DIRS else None
    for root in _PSEUDO:
        if norm.startswith(root + "/"):
            shadowed = root
    if shadowed is None:
        return None
    return (
        f"mountPath {norm} would shadow the system directory {shadowed} that every "
        "step needs; mount the volume elsewhere (e.g. /mnt/data)"
    )
