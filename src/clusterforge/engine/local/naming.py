"""Node names and ids, as Argo forms them.

A node's name is its path in the status tree (``wf.build.nodes(0:a)``); its id
is the workflow name plus a 32-bit FNV-1a hash of the name, which is how Argo
forms ids, so the same workflow always has the same node ids — the property
resume and retry rely on.
"""

from __future__ import annotations

import json
from typing import Any


def fnv1a_32(text: str) -> int:
    value = 0x811C9DC5
    for byte in text.encode():
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def node_id(workflow_name: str, node_name: str) -> str:
    return f"{workflow_name}-{fnv1a_32(node_name)}"


def item_label(item: Any) -> str:
    """How a loop item appears in a child node's name: ``task(0:a)``, ``task(1:k:v,x:y)``."""
    if isinstance(item, dict):
        return ",".join(f"{k}:{_scalar(v)}" for k, v in sorted(item.items()))
    if isinstance(item, list):
        return json.dumps(item, separators=(",", ":"))
    return _scalar(item)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)
