"""How values move in and out of steps: parameter text, substitution, loop items, outputs.

Argo renders every parameter as a string; these helpers do the same for
manifest scalars, substitute ``{{…}}`` tags through nested template bodies,
expose a loop item as ``item`` / ``item.field``, and map a step's output paths
(its ``/tmp`` is a per-attempt directory) back to the host. (The PATH steps
see is step_env.py's.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clusterforge.safety import inside
from clusterforge.workflow.expressions import substitute

RESULT_LIMIT = 256 * 1024


def parameter_text(value: Any) -> str:
    """A manifest scalar as Argo renders it in a parameter."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def substitute_tree(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return substitute(value, values) if "{{" in value else value
    if isinstance(value, list):
        return [substitute_tree(v, values) for v in value]
    if isinstance(value, dict):
        return {k: substitute_tree(v, values) for k, v in value.items()}
    return value


def item_variables(item: Any) -> dict[str, str]:
    values = {"item": parameter_text(item)}
    if isinstance(item, dict):
        for key, val in item.items():
            values[f"item.{key}"] = parameter_text(val)
    return values


def host_path(path: str, tmp: Path, cwd: Path) -> Path:
    """Where a step's path is on the host (its /tmp is a per-attempt dir).

    A path under /tmp or relative to the working directory must stay there
    (``..`` or a symlink the step left may not lead the engine elsewhere):
    :class:`~clusterforge.errors.InvalidInput` otherwise. An absolute path
    elsewhere is the host's own, which the step itself sees as well.
    """
    if path.rstrip("/") == "/tmp":  # noqa: S108 — mapped to the private tmp
        return tmp
    private = "/tmp/"  # noqa: S108 — the step's view, mapped to its private tmp
    if path.startswith(private):
        return inside(tmp, path[len(private) :])
    if not path.startswith("/"):
        return inside(cwd, path)
    return Path(path)


def result_text(stdout: bytes) -> str:
    """``outputs.result``: the step's stdout as text, without the final newlines."""
    return stdout.decode("utf-8", errors="replace").rstrip("\n")


def iso_time(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
