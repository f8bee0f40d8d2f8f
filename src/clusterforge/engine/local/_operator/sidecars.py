"""Sidecars: containers that run beside a pod's main container, as host processes.

As Argo (docs/sidecar-injection.md, the executor's wait container): each of a
template's ``sidecars`` starts with the pod, shares its network — locally the
host's, so the main container reaches a sidecar on ``127.0.0.1`` — and is
terminated once the main container has ended; the pod's phase is the main
container's. A sidecar naming only an image (or nothing), or one whose program cannot be
started, ends the pod in Error before its main container runs.
"""

from __future__ import annotations

from typing import Any

from clusterforge.engine.local._operator.errors import NodeFailure
from clusterforge.engine.local._operator.pods import Sidecar
from clusterforge.engine.local._operator.runtime import Runtime
from clusterforge.engine.local.values import substitute_tree
from clusterforge.engine.objects import ObjectMissing
from clusterforge.store import NodeRecord

JSON = dict[str, Any]


class SidecarFailed(NodeFailure):
    """A sidecar could not be started (no command, or its program failed to start)."""


async def start_sidecars(
    rt: Runtime, node: NodeRecord, template: JSON, values: dict[str, str]
) -> list[Sidecar]:
    """Start every sidecar of ``template``; on a failure, stop the ones started and raise."""
    started: list[Sidecar] = []
    try:
        for index, raw in enumerate(template.get("sidecars") or []):
            body = substitute_tree(raw, values)
            name = str(body.get("name") or f"sidecar-{index}")
            if not body.get("command"):
                raise SidecarFailed(
                    f"sidecars[{index}] ({name}): the sidecar {what_it_names(body)}; the local "
                    "engine runs host programs — name the program in its command "
                    "(e.g. command: [nginx])"
                )
            try:
                env = await rt.object_env(body)
            except ObjectMissing as err:
                raise SidecarFailed(f"sidecars[{index}] ({name}): {err}") from None
            try:
                started.append(await rt.pods.start_sidecar(node, name, body, env))
            except OSError as err:
                raise SidecarFailed(f"sidecars[{index}] ({name}): failed to start: {err}") from None
    except BaseException:
        await stop_sidecars(started)
        raise
    return started


def what_it_names(body: JSON) -> str:
    """What a container without a command names: an image, or nothing at all."""
    if body.get("image"):
        return f"names only an image ({body['image']!r}) and no command"
    # Kubernetes refuses such a pod: spec.containers[].image: Required value.
    return "names neither an image nor a command (Kubernetes requires an image)"


async def stop_sidecars(sidecars: list[Sidecar]) -> None:
    """The main container ended: terminate the sidecars."""
    for sidecar in sidecars:
        await sidecar.stop()
