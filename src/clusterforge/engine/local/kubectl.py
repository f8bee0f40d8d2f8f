"""kubectl for resource templates: Argo's argument lists, run without a shell.

Argo's executor runs kubectl in-process with arguments built by
``getKubectlArguments`` (workflow/executor/resource.go); the local engine runs
the pinned ``kubectl`` binary with the same list — ``kubectl ACTION
[--ignore-not-found] [--type STRATEGY --patch-file M] [FLAGS…] [-f M] -o
json|name`` — always as an argument vector, so no value of a workflow ever
reaches a shell. The binary is the one clusterforge's toolchain links into
the tool cache's ``bin`` (the directory steps find first on PATH; the engine
may not import ``clusterforge.tools``), else the first on PATH.

The cluster is the workflow's :class:`~clusterforge.engine.cluster.ClusterRef`:
``--kubeconfig PATH`` on every call. In a pod, kubectl's default namespace is
the pod's (the workflow's); here ``--namespace`` is added unless the manifest
or the flags name one, so a manifest's own namespace wins as it does on Argo.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clusterforge import paths
from clusterforge.engine.cluster import ClusterRef
from clusterforge.engine.local.step_env import step_path

__all__ = [
    "KubectlMissing",
    "Ran",
    "action_args",
    "find_kubectl",
    "jq_filter",
    "run_kubectl",
    "run_with_retries",
    "transient",
]

OUTPUT_LIMIT = 16 << 20
"""kubectl's answer is read into memory; past 16 MiB it is cut (a list that large is
not what a resource template reads)."""


class KubectlMissing(Exception):
    """No kubectl binary to run; the text says how to get the pinned one."""


@dataclass(frozen=True)
class Ran:
    """One kubectl call's exit code and output."""

    code: int
    stdout: str
    stderr: str


def find_kubectl() -> str:
    """The pinned kubectl (tool cache ``bin`` first, as steps see it), else PATH's."""
    pinned = paths.cache_home() / "bin" / "kubectl"
    if pinned.is_file() and os.access(pinned, os.X_OK):
        return str(pinned)
    found = shutil.which("kubectl", path=step_path(os.environ.get("PATH", os.defpath)))
    if found is None:
        raise KubectlMissing(
            "kubectl not found: a resource template runs kubectl; install the pinned one "
            "with `clusterforge tools install kubectl`"
        )
    return found


def action_args(
    action: str,
    manifest: Path,
    manifest_text: str,
    flags: Sequence[str],
    merge_strategy: str | None,
    manifest_doc: Any,
) -> list[str]:
    """kubectl's arguments for ``action`` as Argo builds them (no binary, no cluster).

    ``manifest_doc`` is the decoded manifest (for ``patch``: a manifest with no
    ``kind`` given with flags is a patch of the object the flags name).
    """
    if not manifest_text and not flags:
        raise ValueError("Must provide at least one of flags or manifest.")
    args = [action]
    output = "json"
    if action == "delete":
        args.append("--ignore-not-found")
        output = "name"
    file_flag = True
    if action == "patch":
        strategy = merge_strategy or "strategic"
        args += ["--type", strategy, "--patch-file", str(manifest)]
        # a JSON patch, or flags naming the object and a manifest with no kind: the
        # patch file alone (`kubectl patch KIND NAME --patch-file M`)
        has_kind = isinstance(manifest_doc, dict) and bool(manifest_doc.get("kind"))
        file_flag = strategy != "json" and not (flags and not has_kind)
    args += list(flags)
    if manifest_text and file_flag:
        args += ["-f", str(manifest)]
    return [*args, "-o", output]


def names_namespace(args: Sequence[str], manifest_doc: Any) -> bool:
    """Do the flags or the manifest already say which namespace?"""
    if isinstance(manifest_doc, dict):
        meta = manifest_doc.get("metadata")
        if isinstance(meta, dict) and meta.get("namespace"):
            return True
    return any(
        a in ("-n", "--namespace", "-A", "--all-namespaces")
        or a.startswith(("--namespace=", "-n="))
        for a in args
    )


async def run_kubectl(cluster: ClusterRef, args: Sequence[str], *, namespace: bool = True) -> Ran:
    """Run ``kubectl --kubeconfig K [--namespace N] ARGS`` (an argument vector) to its end."""
    command = [find_kubectl(), f"--kubeconfig={cluster.kubeconfig}"]
    if namespace:
        command.append(f"--namespace={cluster.namespace}")
    env = {
        "PATH": step_path(os.environ.get("PATH", os.defpath)),
        "HOME": os.environ.get("HOME", "/"),
    }
    process = await asyncio.create_subprocess_exec(
        *command,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        limit=OUTPUT_LIMIT,
    )
    try:
        out, err = await process.communicate()
    except asyncio.CancelledError:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    return Ran(
        process.returncode or 0,
        out[:OUTPUT_LIMIT].decode(errors="replace"),
        err[:OUTPUT_LIMIT].decode(errors="replace"),
    )


# What Argo's IsTransientErr (util/errors/errors.go) recognises in an error's text;
# kubectl's exit hands only the text on, so only the textual checks apply.
TRANSIENT = (
    "etcdserver: leader changed",
    "etcdserver: request timed out",
    "etcdserver: too many requests",
    "client rate limiter Wait returned an error",
    "unexpected error when reading response body",
    "stream error when reading response body",
    "Connection closed by foreign host",
    "net/http: TLS handshake timeout",
    "i/o timeout",
    "connection timed out",
    "connection reset by peer",
    "http2: client connection lost",
    "http2: server sent GOAWAY and closed the connection",
    "request did not complete within requested timeout",
    "connect: connection refused",
    "exceeded quota",
    "(TooManyRequests)",
    "(ServiceUnavailable)",
    "(ServerTimeout)",
)
BACKOFF = (0.01, 0.05, 0.25)
"""client-go's ``retry.DefaultBackoff`` (4 tries: 10 ms, ×5 each), Argo's for the action."""


def transient(stderr: str) -> bool:
    """Is this kubectl error one Argo retries (a network or API server hiccup)?"""
    return any(marker in stderr for marker in TRANSIENT)


async def run_with_retries(cluster: ClusterRef, args: Sequence[str], *, namespace: bool) -> Ran:
    """:func:`run_kubectl`, tried again after transient errors as Argo's executor does."""
    ran = await run_kubectl(cluster, args, namespace=namespace)
    for pause in BACKOFF:
        if ran.code == 0 or not transient(ran.stderr):
            break
        await asyncio.sleep(pause)
        ran = await run_kubectl(cluster, args, namespace=namespace)
    return ran


def jq_filter(document: str, program: str) -> str:
    """Argo's ``jqFilter`` output: each result on its own line, strings bare, anything
    else as Go's ``json.Marshal`` writes it (compact, keys sorted, ``<>&`` escaped).

    Uses the ``jq`` package (libjq); ``ValueError`` says what failed, including a
    missing package.
    """
    try:
        import jq
    except ImportError:
        raise ValueError(
            "valueFrom.jqFilter needs the Python package 'jq' (libjq) in clusterforge's "
            "environment: pip install jq"
        ) from None
    try:
        results = jq.compile(program).input_text(document).all()
    except ValueError as err:
        raise ValueError(f"jqFilter {program!r}: {err}") from None
    lines = [r if isinstance(r, str) else _go_json(r) for r in results]
    return "\n".join(lines).strip()


def _go_json(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
