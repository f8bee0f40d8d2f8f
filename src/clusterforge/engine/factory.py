"""Choosing a backend: the one door front ends use to get an engine.

The CLI, the API and the stages never import a backend's module (an
import-linter contract says so); they name the backend — ``--engine``,
``CLUSTERFORGE_ENGINE`` — and get an :class:`~clusterforge.engine.Engine`
here. Adding the Argo backend means adding its name to :data:`ENGINE_KINDS`
and a branch below, and nothing above the engine changes.
"""

from __future__ import annotations

import os
from pathlib import Path

from clusterforge.engine.interface import Engine, HostedEngine, WatchedEngine
from clusterforge.errors import InvalidInput

__all__ = [
    "ENGINE_KINDS",
    "engine_kind",
    "open_argo_engine",
    "open_engine",
    "open_hosted_engine",
]

ENGINE_KINDS = ("local", "argo")
"""The backends this build has."""


def engine_kind(kind: str | None = None) -> str:
    """The backend asked for: ``kind``, else ``CLUSTERFORGE_ENGINE``, else ``local``."""
    chosen = (kind or os.environ.get("CLUSTERFORGE_ENGINE") or "local").strip().lower()
    if chosen not in ENGINE_KINDS:
        raise InvalidInput(
            f"engine {chosen!r} is not one of: {', '.join(ENGINE_KINDS)}; "
            "pass --engine local|argo or set CLUSTERFORGE_ENGINE"
        )
    return chosen


def open_engine(kind: str | None = None, *, home: Path | None = None) -> Engine:
    """An engine of the named backend. ``home``: the local engine's data directory
    (default: ``CLUSTERFORGE_HOME``)."""
    if engine_kind(kind) == "argo":
        return open_argo_engine(home=home)
    return open_hosted_engine(home)


def open_argo_engine(
    kubeconfig: str | None = None, namespace: str | None = None, *, home: Path | None = None
) -> WatchedEngine:
    """The Argo backend on a cluster: ``kubeconfig`` (else ``CLUSTERFORGE_KUBECONFIG``,
    else ``KUBECONFIG``) and ``namespace`` (else ``CLUSTERFORGE_NAMESPACE``, else
    ``default``); ``CLUSTERFORGE_ARGO_START_TIMEOUT`` bounds how long a submission
    waits for the controller to pick a workflow up (seconds, default 30)."""
    from clusterforge.engine.argo.engine import ArgoEngine

    config = kubeconfig or os.environ.get("CLUSTERFORGE_KUBECONFIG") or os.environ.get("KUBECONFIG")
    raw_timeout = os.environ.get("CLUSTERFORGE_ARGO_START_TIMEOUT", "30")
    try:
        timeout = float(raw_timeout)
    except ValueError:
        raise InvalidInput(
            f"CLUSTERFORGE_ARGO_START_TIMEOUT={raw_timeout!r}: give a number of seconds"
        ) from None
    return ArgoEngine(
        config or None,
        namespace or os.environ.get("CLUSTERFORGE_NAMESPACE") or "default",
        home=home,
        start_timeout=timeout,
    )


def open_hosted_engine(home: Path | None = None, kubeconfig: str | None = None) -> HostedEngine:
    """The engine a server hosts runs on: workflows in this machine's processes;
    ``kubeconfig``: the cluster they run against (``serve --kubeconfig``)."""
    from clusterforge.engine.local import LocalEngine

    return LocalEngine(home, kubeconfig=kubeconfig)
