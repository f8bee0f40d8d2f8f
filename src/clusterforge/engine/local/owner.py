"""``setOwnerReference`` without a Workflow object: an owner ConfigMap per workflow.

On Argo, ``resource.setOwnerReference: true`` makes the Workflow object the
controller owner of what the template creates, so deleting the workflow lets
Kubernetes' garbage collector delete those objects. A local workflow has no
Workflow object on the cluster it runs against, so the engine makes a stand-in
there: the ConfigMap ``clusterforge-workflow-<workflow name>`` in the
workflow's namespace (annotated with the workflow's name and uid), created on
first use and owning every object such a template creates.
``clusterforge delete WORKFLOW`` (``LocalEngine.delete``) deletes it, and the
garbage collector then deletes the owned objects — the same outcome as
deleting an Argo Workflow. As on Argo, an owner only owns objects of its own
namespace (Kubernetes ignores cross-namespace owners).
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from clusterforge.engine.cluster import ClusterRef
from clusterforge.engine.local.kubectl import KubectlMissing, find_kubectl, run_kubectl
from clusterforge.safety import loads_json

__all__ = ["OwnerFailed", "delete_owner", "ensure_owner", "owner_name", "owner_reference"]

log = logging.getLogger(__name__)

PREFIX = "clusterforge-workflow-"
WORKFLOW_ANNOTATION = "workflows.clusterforge.io/workflow"


class OwnerFailed(Exception):
    """The owner ConfigMap could not be made; the text is kubectl's reason."""


def owner_name(workflow: str) -> str:
    """The owner ConfigMap's name (a workflow name is a DNS subdomain of ≤ 230 chars)."""
    return PREFIX + workflow


def owner_reference(owner: dict[str, Any]) -> dict[str, Any]:
    """A controller reference to ``owner`` (as Argo's ``metav1.NewControllerRef``)."""
    meta = owner.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": str(meta.get("name", "")),
        "uid": str(meta.get("uid", "")),
        "controller": True,
        "blockOwnerDeletion": True,
    }


async def ensure_owner(cluster: ClusterRef, workflow: str, uid: str, work: Path) -> dict[str, Any]:
    """The owner ConfigMap of ``workflow`` (applied: made once, the same one after),
    as a controller reference; :class:`OwnerFailed` with kubectl's reason."""
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": owner_name(workflow),
            "annotations": {WORKFLOW_ANNOTATION: workflow, f"{WORKFLOW_ANNOTATION}-uid": uid},
        },
        "data": {"workflow": workflow},
    }
    work.mkdir(parents=True, exist_ok=True)
    path = work / "owner.yaml"
    path.write_text(yaml.safe_dump(manifest))
    ran = await run_kubectl(cluster, ["apply", "-f", str(path), "-o", "json"])
    if ran.code != 0:
        raise OwnerFailed(
            f"setOwnerReference: the owner ConfigMap {owner_name(workflow)} could not be "
            f"applied: {ran.stderr.strip()}"
        )
    return owner_reference(loads_json(ran.stdout, "kubectl apply output"))


def delete_owner(cluster: ClusterRef, workflow: str) -> None:
    """Delete the owner ConfigMap (if any), so the garbage collector deletes what it owns.

    Best effort, bounded: a cluster that is gone or unreachable leaves a log line.
    """
    try:
        command = [
            find_kubectl(),
            f"--kubeconfig={cluster.kubeconfig}",
            f"--namespace={cluster.namespace}",
            "--request-timeout=10s",
            "delete",
            "configmap",
            owner_name(workflow),
            "--ignore-not-found",
            "--wait=false",
        ]
    except KubectlMissing as err:
        log.warning("workflow %s: owner ConfigMap not deleted: %s", workflow, err)
        return
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            stdin=subprocess.DEVNULL,
            env={"PATH": os.environ.get("PATH", os.defpath), "HOME": os.environ.get("HOME", "/")},
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        log.warning("workflow %s: owner ConfigMap not deleted: %s", workflow, err)
        return
    if done.returncode != 0:
        log.warning("workflow %s: owner ConfigMap not deleted: %s", workflow, done.stderr.strip())
