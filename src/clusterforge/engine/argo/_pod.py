"""What a host process needs from a pod Argo's controller created.

Argo's controller (v3.7) builds a step's pod so that its ``main`` container
runs ``/var/run/argo/argoexec emissary [log options] -- COMMAND… ARGS…``; a
script template's source is written by the init container to
``/argo/staging/script``, which the controller appends to the main
container's args. The template itself (outputs to collect) is the JSON in
the ``ARGO_TEMPLATE`` variable of Argo's own containers; the node the pod
runs is its ``workflows.argoproj.io/node-id`` annotation; its Workflow is the
``workflows.argoproj.io/workflow`` label and the controller-owner reference.

This module reads exactly those facts from the pod (a plain JSON tree, as
the API server returns it) and nothing else; anything it cannot run on a
host is one :class:`PodNotRunnable` naming what.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from clusterforge.engine.local.kubelet_expansion import expand, expand_all

MAIN = "main"
WAIT = "wait"
WORKFLOW_LABEL = "workflows.argoproj.io/workflow"
NODE_ID_ANNOTATION = "workflows.argoproj.io/node-id"
SCRIPT_PATH = "/argo/staging/script"
_EMISSARY_END = "--"
_OFFLOADED = "{{OFFLOADED}}"


class PodNotRunnable(ValueError):
    """The pod asks for something a host process cannot give (named in the message)."""


@dataclass(frozen=True)
class PodStep:
    """One Argo step pod, as a host process will run it."""

    namespace: str
    pod: str
    uid: str
    node_id: str
    workflow: str
    workflow_uid: str
    argv: list[str]
    env: dict[str, str]
    working_dir: str | None
    script: str | None
    template: dict[str, Any]
    include_result: bool


def read_pod(pod: dict[str, Any]) -> PodStep:
    """The step ``pod`` runs; raises :class:`PodNotRunnable` when it cannot run here."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    containers = {c.get("name"): c for c in spec.get("containers") or []}
    main = containers.get(MAIN)
    if main is None:
        raise PodNotRunnable(f"pod {meta.get('name')}: no container named {MAIN!r}")
    template = _template(spec)
    env = _literal_env(main)
    argv = _command(main, env)
    script = (template.get("script") or {}).get("source")
    owner = _workflow_owner(meta)
    return PodStep(
        namespace=str(meta.get("namespace", "")),
        pod=str(meta.get("name", "")),
        uid=str(meta.get("uid", "")),
        node_id=str((meta.get("annotations") or {}).get(NODE_ID_ANNOTATION, "")),
        workflow=str((meta.get("labels") or {}).get(WORKFLOW_LABEL, "")),
        workflow_uid=owner,
        argv=argv,
        env=env,
        working_dir=main.get("workingDir") or None,
        script=script if isinstance(script, str) else None,
        template=template,
        include_result=_flag(spec, "ARGO_INCLUDE_SCRIPT_OUTPUT"),
    )


def _command(main: dict[str, Any], env: dict[str, str]) -> list[str]:
    """The step's own command and args: what follows emissary's ``--``, with the
    kubelet's ``$(VAR)`` expansion from the container's variables (a host process
    stands in for the container the kubelet would start)."""
    command = expand_all((str(part) for part in main.get("command") or []), env)
    args = expand_all((str(part) for part in main.get("args") or []), env)
    if _EMISSARY_END in command:
        command = command[command.index(_EMISSARY_END) + 1 :]
    argv = command + args
    if not argv:
        raise PodNotRunnable(
            "the main container has no command (an image's entrypoint cannot run on a host)"
        )
    return argv


def _template(spec: dict[str, Any]) -> dict[str, Any]:
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for variable in container.get("env") or []:
            if variable.get("name") != "ARGO_TEMPLATE":
                continue
            value = variable.get("value")
            if value == _OFFLOADED:
                raise PodNotRunnable(
                    "ARGO_TEMPLATE is offloaded to a ConfigMap (template too large)"
                )
            try:
                template = json.loads(value or "{}")
            except ValueError as err:
                raise PodNotRunnable(f"ARGO_TEMPLATE is not JSON: {err}") from None
            if isinstance(template, dict):
                return template
    raise PodNotRunnable("no ARGO_TEMPLATE in the pod: not a pod of Argo's controller")


def _literal_env(main: dict[str, Any]) -> dict[str, str]:
    """The container's ``env`` entries that carry a value (``valueFrom`` needs a kubelet),
    each ``$(VAR)`` in it expanded from the variables before it, as the kubelet does."""
    env: dict[str, str] = {}
    for variable in main.get("env") or []:
        name = variable.get("name")
        if isinstance(name, str) and "value" in variable:
            env[name] = expand(str(variable.get("value") or ""), env)
    return env


def _workflow_owner(meta: dict[str, Any]) -> str:
    for owner in meta.get("ownerReferences") or []:
        if owner.get("kind") == "Workflow":
            return str(owner.get("uid", ""))
    raise PodNotRunnable(f"pod {meta.get('name')}: no Workflow owner")


def _flag(spec: dict[str, Any], name: str) -> bool:
    """Whether any container of the pod sets ``name`` to ``true`` (the controller
    sets ``ARGO_INCLUDE_SCRIPT_OUTPUT`` on the wait container when ``outputs.result``
    is referenced)."""
    return any(
        variable.get("name") == name and variable.get("value") == "true"
        for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
        for variable in container.get("env") or []
    )
