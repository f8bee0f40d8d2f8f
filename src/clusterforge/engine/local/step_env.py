"""The environment a step starts with: clusterforge's tools, not its interpreter.

Steps used to get the engine's own virtualenv first on PATH, so ``python3``
and ``pip`` in any workflow step were clusterforge's: running Hera's example
workflows locally installed pyspark, dask and pandas into clusterforge's own
environment. A pod on Argo sees its image's tools, never the controller's.

So steps now get, first on PATH, a directory holding exactly one entry: a
link to the ``clusterforge`` console script (its ``#!`` line names the
virtualenv's interpreter, so it still runs there, but nothing else of the
virtualenv is reachable), then the pinned tool cache (kubectl, helm, kwokctl…),
then the rest of the engine's PATH with the virtualenv's ``bin`` removed.
``VIRTUAL_ENV``, ``PYTHONHOME`` and ``PYTHONPATH`` are not passed on: a
``python3``/``pip`` a step finds is the machine's, installing where the
machine's would.

The directory lives in the cache (rebuildable), one per installation (keyed
by the console script's path, as several checkouts share one cache).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from clusterforge import paths

# Variables that would point a step's Python at the engine's installation.
ENGINE_ONLY = ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP")


def entry_point() -> Path | None:
    """The ``clusterforge`` console script of this installation, if there is one."""
    beside = Path(sys.executable).parent / "clusterforge"
    if beside.is_file():
        return beside
    found = shutil.which("clusterforge")
    return Path(found) if found else None


def step_bin() -> Path | None:
    """A directory holding only a link to ``clusterforge`` (made once, atomically)."""
    script = entry_point()
    if script is None:
        return None
    key = hashlib.sha256(os.fsencode(script.absolute())).hexdigest()[:12]
    directory = paths.cache_home() / "step-bin" / key
    link = directory / "clusterforge"
    if link.is_symlink() and os.readlink(link) == str(script.absolute()):
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".clusterforge.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(script.absolute())
    temporary.replace(link)
    return directory


def step_path(path: str) -> str:
    """PATH for steps: the one-entry bin, the tool cache, then ``path`` without the venv."""
    engine_bin = str(Path(sys.executable).parent)
    own = step_bin()
    first = ([str(own)] if own else []) + [str(paths.cache_home() / "bin")]
    rest = [p for p in path.split(os.pathsep) if p and p not in first and p != engine_bin]
    return os.pathsep.join(first + rest)


def step_base_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The engine's environment as steps inherit it: the step PATH, no engine-only variables."""
    env = {k: v for k, v in environ.items() if k not in ENGINE_ONLY}
    env["PATH"] = step_path(environ.get("PATH", os.defpath))
    return env
