"""From a validated cluster spec to the workflow parameters of the stage library.

Every value is a string (Argo parameters are strings). The whole spec travels
as ``spec-json`` and reaches steps as an environment variable; the rest are the
few values the templates branch or loop on (``when`` add-on switches, node
group names for ``withParam``, validation sentences). Nothing here is ever
spliced into a shell command: the templates pass parameters as argv elements
and environment variables only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CATALOG_ADDONS = (
    "coredns",
    "metrics-server",
    "cert-manager",
    "fluent-bit",
    "ingress-nginx",
    "cluster-autoscaler",
)
WORKER_IMAGE = "clusterforge/worker:0.1.0"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def spec_document(spec: Any) -> dict[str, Any]:
    """The spec as its YAML/JSON document (camelCase keys, no unset fields)."""
    data: dict[str, Any] = spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    return data


def addon_switches(doc: Mapping[str, Any]) -> dict[str, str]:
    """``addon-<name>`` = ``none`` or ``enabled`` for every catalog add-on."""
    addons = doc.get("spec", {}).get("addons") or {}
    switches = {}
    for name in CATALOG_ADDONS:
        setting = addons.get(name, "none")
        switches[f"addon-{name}"] = "none" if setting in (None, "none") else "enabled"
    return switches


def user_addon_names(doc: Mapping[str, Any]) -> list[str]:
    """Users' own add-ons (not in the catalog, not disabled), dependencies first."""
    addons = doc.get("spec", {}).get("addons") or {}
    users = {
        name: setting
        for name, setting in addons.items()
        if name not in CATALOG_ADDONS and isinstance(setting, Mapping)
    }
    ordered: list[str] = []

    def visit(name: str, trail: tuple[str, ...] = ()) -> None:
        if name in ordered or name not in users or name in trail:
            return
        for dep in users[name].get("dependsOn", []) or []:
            visit(dep, (*trail, name))
        ordered.append(name)

    for name in sorted(users):
        visit(name)
    return ordered


def build_parameters(spec: Any, *, artifacts_dir: Path, rerun: bool = False) -> dict[str, str]:
    """All parameters of the ``cluster-build`` workflow (and every stage) for a spec."""
    doc = spec_document(spec)
    body = doc.get("spec", {})
    validation = body.get("validation") or {}
    retries = validation.get("retries") or {}
    preflight = body.get("preflight") or {}
    params = {
        "cluster-name": doc["metadata"]["name"],
        "provider": (body.get("provider") or {}).get("type", "kwok"),
        "spec-json": _compact(doc),
        "artifacts-dir": str(artifacts_dir),
        "rerun": "true" if rerun else "false",
        "preflight-extra": _compact([c["name"] for c in preflight.get("checks", []) or []]),
        "preflight-retries": "2",
        "node-groups": _compact([g["name"] for g in body.get("nodeGroups", []) or []]),
        "user-addons": _compact(user_addon_names(doc)),
        "validation-sentences": _compact(list(validation.get("checks", []) or [])),
        "bats-files": _compact(list(validation.get("batsFiles", []) or [])),
        "validation-retries": str(retries.get("limit", 5)),
        "validation-interval": str(retries.get("interval", "2s")),
        "worker-image": WORKER_IMAGE,
    }
    params.update(addon_switches(doc))
    return params
