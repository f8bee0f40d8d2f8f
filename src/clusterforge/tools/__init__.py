"""The pinned Kubernetes toolchain: find it, fetch it, or build it.

clusterforge drives real tools — kubectl, the Kubernetes control-plane
servers, etcd, kwok, helm, argo — and a cluster behaves the same on every
machine only if they are the same versions everywhere. This package owns that
promise: one manifest pins each tool (``manifest.yaml``), and resolution tries,
in order, a binary on PATH that reports the pinned version, the cache under
``~/.cache/clusterforge/tools``, an official download checked against a
pinned sha256, and finally ``go build`` from the tool's Go module through a
generated wrapper module. Every install records how the tool was obtained.

Other packages call :func:`resolve` for one binary, or :func:`bin_dir` for a
directory of symlinks to put first on PATH (steps, kwokctl, tests).
"""

from __future__ import annotations

from pathlib import Path

from clusterforge.tools._gobuild import BuildFailed, RefusedModule
from clusterforge.tools._manifest import Manifest, ToolSpec, load_manifest, parse_manifest
from clusterforge.tools._toolchain import (
    Located,
    Outcome,
    Reporter,
    Toolchain,
    ToolMissing,
    ToolStatus,
)


def resolve(name: str) -> Path:
    """The path of the pinned ``name``; raises :class:`ToolMissing` with the fix."""
    return Toolchain().resolve(name)


def bin_dir() -> Path:
    """A directory of symlinks to every resolved tool, for the front of PATH."""
    return Toolchain().link_bin()


__all__ = [
    "BuildFailed",
    "Located",
    "Manifest",
    "Outcome",
    "RefusedModule",
    "Reporter",
    "ToolMissing",
    "ToolSpec",
    "ToolStatus",
    "Toolchain",
    "bin_dir",
    "load_manifest",
    "parse_manifest",
    "resolve",
]
