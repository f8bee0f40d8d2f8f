"""Where the shipped bash library is.

``clusterforge detik-lib`` prints this path so a ``.bats`` file can
``load "$(clusterforge detik-lib)"`` and call ``verify`` and ``try`` as with
bats-detik; the functions in it delegate to ``clusterforge detik``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["library_path"]


def library_path() -> Path:
    """Absolute path of ``detik.bash`` inside the installed package."""
    resource = resources.files("clusterforge.checks.detik").joinpath("lib", "detik.bash")
    # The package is installed as files (never zipped), so this is a real path.
    return Path(str(resource)).resolve()
