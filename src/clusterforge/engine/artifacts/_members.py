"""What a member of an artifact archive may be: the checks both unpackers share.

An archive may come from anywhere (another workflow's repository, an HTTP
URL), so each member's name and link target is checked before it is
written: an absolute or malformed name, a ``..`` segment, or a link whose
target leaves the extraction target refuses the whole archive. A member
whose path (or link target) goes through a symbolic link the archive made
earlier is refused too: checks on names alone cannot see where a link leads
once it is on disk, and archives ``tar -c`` makes never need it.
"""

from __future__ import annotations

import posixpath

from clusterforge.errors import InvalidInput


class UnsafeArchive(InvalidInput):
    """An archive member would land outside the extraction target."""


def check_member(name: str, kind: str, link: str = "") -> None:
    """Refuse a member ``name`` of ``kind`` (file, dir, symlink, hardlink) that escapes."""
    if name.startswith("/") or "\\" in name or "\x00" in name:
        raise UnsafeArchive(f"archive member {name!r} has an absolute or malformed name")
    parts = [p for p in posixpath.normpath(name).split("/") if p not in ("", ".")]
    if ".." in name.split("/") or not parts or parts[0] == "..":
        raise UnsafeArchive(f"archive member {name!r} escapes the target with '..'")
    if kind not in ("symlink", "hardlink"):
        return
    if kind == "symlink":
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), link))
    else:
        resolved = posixpath.normpath(link)
    if (
        not link
        or "\x00" in link
        or link.startswith("/")
        or resolved == ".."
        or resolved.startswith("../")
    ):
        raise UnsafeArchive(
            f"archive member {name!r} links to {link!r}, outside the target; refused"
        )


class MemberChecker:
    """Checks one archive's members in order, remembering the links it made."""

    def __init__(self) -> None:
        self._links: set[str] = set()
        self.symlinks: list[str] = []
        """Names of accepted symbolic links, for a check on disk once extracted."""

    def check(self, name: str, kind: str, link: str = "") -> None:
        check_member(name, kind, link)
        clean = posixpath.normpath(name)
        paths = [posixpath.dirname(clean)]
        if kind == "hardlink":
            paths.append(posixpath.dirname(posixpath.normpath(link)))
        elif kind == "symlink":
            paths.append(posixpath.normpath(posixpath.join(posixpath.dirname(clean), link)))
        for path in paths:
            parts = [p for p in path.split("/") if p not in ("", ".")]
            for depth in range(1, len(parts) + 1):
                through = "/".join(parts[:depth])
                if through in self._links:
                    raise UnsafeArchive(
                        f"archive member {name!r} goes through the link {through!r} "
                        "the archive made; refused"
                    )
        if kind == "symlink":
            self._links.add(clean)
            self.symlinks.append(clean)
