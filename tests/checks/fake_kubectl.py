"""A stand-in for ``kubectl get <type> -o custom-columns=…``, printing canned tables.

Only the DETIK *semantics* tests use it, the way bats-detik's own tests stub
the client (``DETIK_CLIENT_NAME="mytest"`` with a bash function that echoes a
table): it lets every grammar form be checked against known cluster contents
without a cluster. The real-cluster tests (``test_detik_cluster.py``) run the
real kubectl against a kwok cluster.

It is a real program run as a subprocess through ``DETIK_CLIENT_NAME``. Its
state file (``$FAKE_KUBECTL_STATE``, JSON) holds a list of snapshots; call N
answers from snapshot N (the last one repeats), so ``try`` loops can watch a
cluster change. A snapshot is ``{"error": "…"}`` (stderr, exit 1) or
``{"resources": {"pods": [{"name", "namespace", "props": {column: value}}]}}``.
Every argv is appended to ``<state>.calls`` as a JSON line.

Like kubectl it accepts a column with or without a leading dot or braces
(``RelaxedJSONPathExpression``), prints ``<none>`` for a missing value, pads
columns with three spaces, and prints nothing but a stderr notice when no
resource exists.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

_KINDS = {
    "po": "pods",
    "pod": "pods",
    "svc": "services",
    "service": "services",
    "deploy": "deployments",
    "deployment": "deployments",
    "no": "nodes",
    "node": "nodes",
    "cm": "configmaps",
    "configmap": "configmaps",
}


def _relaxed(column: str) -> str:
    if column.startswith("{") and column.endswith("}"):
        column = column[1:-1]
    return "." + column.removeprefix(".")


def main(argv: list[str]) -> int:
    state = Path(os.environ["FAKE_KUBECTL_STATE"])
    calls = state.with_name(state.name + ".calls")
    number = len(calls.read_text().splitlines()) if calls.exists() else 0
    with calls.open("a") as log:
        log.write(json.dumps(argv) + "\n")
    snapshots = json.loads(state.read_text())["snapshots"]
    snapshot = snapshots[min(number, len(snapshots) - 1)]

    if len(argv) < 4 or argv[0] != "get" or argv[2] != "-o":
        print(f"fake kubectl: unsupported call {argv}", file=sys.stderr)
        return 2
    kind = _KINDS.get(argv[1], argv[1])
    spec = argv[3].removeprefix("custom-columns=")
    columns = [part.split(":", 1) for part in spec.split(",")]
    namespace: str | None = "default"
    for flag in argv[4:]:
        if flag.startswith("--namespace="):
            namespace = flag.split("=", 1)[1]
        elif flag == "--all-namespaces":
            namespace = None
        elif not flag.startswith("--kubeconfig="):
            print(f"fake kubectl: unsupported flag {flag}", file=sys.stderr)
            return 2

    if "error" in snapshot:
        print(snapshot["error"], file=sys.stderr)
        return 1
    resources = snapshot["resources"]
    if kind not in resources:
        print(f'error: the server doesn\'t have a resource type "{argv[1]}"', file=sys.stderr)
        return 1
    items = [
        item
        for item in resources[kind]
        if namespace is None or item.get("namespace") in (None, namespace)
    ]
    if not items:
        where = "" if namespace is None else f" in {namespace} namespace"
        print(f"No resources found{where}.", file=sys.stderr)
        return 0

    table = [[header for header, _ in columns]]
    for item in items:
        row = []
        for _, column in columns:
            path = _relaxed(column)
            value = item["name"] if path == ".metadata.name" else item["props"].get(path)
            row.append("<none>" if value is None else str(value))
        table.append(row)
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    for row in table:
        cells = [cell.ljust(width + 3) for cell, width in zip(row[:-1], widths, strict=False)]
        print("".join(cells) + row[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
