"""The log of a resource node: what Argo's executor prints in the pod's main container.

On Argo a resource template runs in a pod whose ``argoexec resource`` logs
each kubectl command (``strings.Join(args, " ")``), the object acted on
(``Resource`` with its namespace and name), the conditions it waits for and
each evaluation, and the output parameters it saved
(workflow/executor/resource.go); ``argo logs`` shows those lines and
``archiveLogs`` archives them. The local engine runs the same kubectl calls
from the engine itself, so it writes the same story to the node's own log —
``stdout.log`` in the node's resource directory, read by ``clusterforge logs``
like any pod's, archived as ``main-logs`` when the workflow archives logs.

What is never written: the kubeconfig (kubectl gets it by path, and the path
is left out too), the value of a flag that names a token, password or
secret, and the objects kubectl prints — a Secret's data would be in them;
only their kind, namespace and name are logged, as Argo does.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Sequence
from pathlib import Path

from clusterforge.store import NodeRecord

__all__ = ["LOG_FILE", "ResourceLog", "is_resource_log", "redact"]

LOG_FILE = "stdout.log"
RESOURCES = "resources"
"""The run directory's folder of resource nodes, one directory per node (resource.py)."""

_SENSITIVE = re.compile(r"(?i)token|password|passwd|secret|credential|client-key|auth")
_HIDDEN = "<redacted>"


def redact(args: Sequence[str]) -> list[str]:
    """``args`` with the values of sensitive flags hidden (``--token=X``, ``--token X``,
    ``--from-literal=password=X``)."""
    out: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next:
            out.append(_HIDDEN)
            hide_next = False
            continue
        name, eq, value = arg.partition("=")
        if arg.startswith("-") and _SENSITIVE.search(name):
            out.append(f"{name}={_HIDDEN}" if eq else arg)
            hide_next = not eq
        elif arg.startswith("-") and eq and _SENSITIVE.search(value):
            out.append(f"{name}={_HIDDEN}")
        else:
            out.append(arg)
    return out


def is_resource_log(node: NodeRecord, run_dir: Path | None) -> bool:
    """Is the node's log a resource node's (no step process, nothing to adopt)?"""
    if not node.log_dir or run_dir is None:
        return False
    return Path(node.log_dir).parent == run_dir / RESOURCES


class ResourceLog:
    """Appends the executor's lines to one resource node's log."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / LOG_FILE

    def line(self, message: str, level: str = "info") -> None:
        """One line in Argo's executor format (``time=… level=… msg=…``)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        text = message.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(f'time="{stamp}" level={level} msg="{text}"\n')

    def command(self, args: Sequence[str], namespace: str | None) -> None:
        """The kubectl command about to run (its argument vector, sensitive values hidden)."""
        shown = ["kubectl", *([f"--namespace={namespace}"] if namespace else []), *redact(args)]
        self.line(shlex.join(shown))

    def failed(self, code: int, stderr: str) -> None:
        self.line(f"kubectl exited {code}: {stderr.strip()}", "error")

    def resource(self, namespace: str, full_name: str) -> None:
        self.line(f"Resource: {namespace + '/' if namespace else ''}{full_name}")

    def condition(self, which: str, requirement: object, matched: bool) -> None:
        self.line(f"{which} condition '{requirement}' evaluated {str(matched).lower()}")
