"""What a step must still reach under the host's ``/tmp`` once its own is private.

Each step runs with a per-attempt directory mounted over ``/tmp`` (see
:mod:`process`). A project checked out under ``/tmp`` — CI runners clone
there — then lost its own virtualenv: the step's program, the ``clusterforge``
console script its PATH names, the interpreter on that script's ``#!`` line,
all vanished behind the private ``/tmp``, and every step failed with
"No such file or directory".

So the launcher puts back, inside the private ``/tmp``, bind mounts of the
few host paths a step needs, and nothing else (another step's files under
``/tmp`` stay out of sight, as in a pod):

* the engine's Python installation (``sys.prefix`` and its base), which runs
  the ``clusterforge`` commands steps call, and the directories its imports
  come from (``sys.path``): ``make venv`` installs clusterforge editable, so
  the package itself is the checkout's ``src/``, named by a ``.pth`` file —
  kept out of sight, the step's ``clusterforge`` could not import itself;
* clusterforge's data home and cache (the state a ``clusterforge`` step reads,
  the pinned tools), when they are under ``/tmp``;
* each directory on the step's PATH, and the step's resolved program with the
  interpreter its ``#!`` line names — for a program in ``…/bin``, the whole
  prefix above it (``lib/``, ``share/``: a virtualenv or tool tree);
* a script template's source file, and each path under ``/tmp`` the step is
  given as an argument (a program among them like the step's own program; a
  path written inside a ``sh -c`` text is not seen: put such a program on
  PATH, or pass the path as an argument).

Every path is kept as the shortest set of roots (a root inside another is
covered by it); ``/tmp`` itself is never kept — that would undo the private
``/tmp`` — nor are ``/tmp/<something>`` roots when that is all there is to
name (a PATH entry of ``/tmp/bin`` keeps ``/tmp/bin``, not ``/tmp``).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterable

from clusterforge import paths

TMP = "/tmp"  # noqa: S108 — the host's /tmp, which each step gets privately
_PREFIX = TMP + "/"
_BIN_DIRS = ("bin", "sbin")


def under_tmp(path: str) -> bool:
    """Whether ``path`` (absolute, normalised) is inside ``/tmp`` (not ``/tmp`` itself)."""
    return path.startswith(_PREFIX)


def keep_roots(
    executable: str, path_env: str, args: Iterable[str] = (), files: Iterable[str] = ()
) -> tuple[str, ...]:
    """The host paths under ``/tmp`` a step running ``executable`` with ``PATH=path_env``
    needs, as minimal roots. ``args``: its arguments (a program among them is kept
    like ``executable``, another path as itself); ``files``: its own files (a script)."""
    homes = (os.path.abspath(paths.data_home()), os.path.abspath(paths.cache_home()))
    wanted = [*_engine_paths(), *homes, *_path_dirs(path_env), *_program_paths(executable)]
    for arg in args:
        path = os.path.normpath(arg)
        if not under_tmp(path):
            continue
        if os.path.isfile(path) and os.access(path, os.X_OK):
            wanted.extend(_program_paths(path))
        else:
            wanted.append(path)
    wanted.extend(os.path.normpath(p) for p in files)
    return minimal_roots(wanted)


def minimal_roots(candidates: Iterable[str]) -> tuple[str, ...]:
    """Existing paths under ``/tmp`` of ``candidates``, without those inside another."""
    roots: list[str] = []
    for path in sorted(set(candidates)):
        if not under_tmp(path) or not os.path.lexists(path):
            continue
        if roots and (path == roots[-1] or path.startswith(roots[-1] + "/")):
            continue
        roots.append(path)
    return tuple(roots)


@functools.cache
def _engine_paths() -> tuple[str, ...]:
    """The engine's own Python installation and import path (fixed for the process's life)."""
    found = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
    found.update(entry for entry in sys.path if entry and os.path.isabs(entry))
    return tuple(p for path in found for p in _both(os.path.abspath(path)))


@functools.lru_cache(maxsize=64)
def _path_dirs(path_env: str) -> tuple[str, ...]:
    """Each PATH directory under /tmp, widened to its prefix when it is a bin dir."""
    found: list[str] = []
    for entry in path_env.split(os.pathsep):
        if entry and os.path.isabs(entry):
            found.extend(_prefix(p) for p in _both(os.path.normpath(entry)))
    return tuple(found)


@functools.lru_cache(maxsize=4096)
def _program_paths(executable: str) -> tuple[str, ...]:
    """The program's prefix (through symlinks) and its ``#!`` interpreter's."""
    found: list[str] = []
    for path in _both(os.path.abspath(executable)):
        found.append(_prefix(os.path.dirname(path)))
    interpreter = shebang_interpreter(os.path.realpath(executable))
    if interpreter:
        for path in _both(interpreter):
            found.append(_prefix(os.path.dirname(path)))
    return tuple(found)


def _both(path: str) -> tuple[str, ...]:
    """``path`` and, when a symlink leads elsewhere, where it really is."""
    real = os.path.realpath(path)
    return (path,) if real == path else (path, real)


def _prefix(directory: str) -> str:
    """``/tmp/x/venv`` for ``/tmp/x/venv/bin``; the directory itself otherwise
    (and never ``/tmp``)."""
    head, tail = os.path.split(directory)
    if tail in _BIN_DIRS and under_tmp(head):
        return head
    return directory


def shebang_interpreter(program: str) -> str | None:
    """The absolute interpreter named on ``program``'s ``#!`` line, if any."""
    try:
        with open(program, "rb") as handle:
            first = handle.read(256)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].split(b"\n", 1)[0].split()
    if not words or not words[0].startswith(b"/"):
        return None
    return os.fsdecode(words[0])
