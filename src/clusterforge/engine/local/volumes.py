"""Argo's volumes on one machine: a host directory bind-mounted into the step.

In a cluster a volume is storage a pod mounts; here a step is a process in its
own mount namespace (see :mod:`process`), so the natural local meaning of each
kind is a host directory bind-mounted at the ``mountPath``:

* ``emptyDir`` — a fresh directory per pod (attempt), in the workflow's
  scratch, gone when the workflow ends (as the pod's would be);
* ``volumeClaimTemplates`` — one directory per workflow (``<run dir>/.volumes/
  <name>``), shared by its steps; removed when the workflow ends as its
  ``volumeClaimGC`` says (Argo's default: on success; ``OnWorkflowCompletion``:
  always), kept with the run otherwise, so a ``retry`` sees what the failed
  run left;
* ``persistentVolumeClaim`` (an existing claim) — one directory per claim
  name under clusterforge's data home (``volumes/<claimName>``), kept across
  workflows as a claim outlives them;
* ``hostPath`` — the host path itself (``type`` checked or created as the
  kubelet does).

* ``configMap``/``secret`` — the object's keys as files (``items``, modes),
  written per pod in a private directory in the scratch and removed when the
  pod ends; mounted read-only (``_operator/pod_objects.py`` reads them).

``readOnly``, ``subPath`` and ``subPathExpr`` (``$(VAR)`` from the container's
env) are honoured; a ``subPath`` naming a file (a ConfigMap's or Secret's key)
mounts that one file at the ``mountPath``. Any other source (projected,
downwardAPI, …) ends the node in Error naming the volume. Mounting needs the mount
namespace — root, or CAP_SYS_ADMIN; elsewhere a step with volumeMounts ends in
Error saying so. A mount point outside /tmp the host lacks (``/mnt/vol``) is
never made on the host: the step then runs in a private root
(:mod:`private_root`) where the mount point is made privately; a directory the
host has is bound over in the step's mount namespace only.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clusterforge import paths
from clusterforge.engine.local.kubelet_expansion import REFERENCE
from clusterforge.engine.local.process import Mount
from clusterforge.errors import InvalidInput
from clusterforge.safety import inside
from clusterforge.workflow import mount_path_problem

JSON = dict[str, Any]

SUPPORTED = ("emptyDir", "hostPath", "persistentVolumeClaim", "configMap", "secret")
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_CLAIM = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
_MUST_EXIST = {"Directory": os.path.isdir, "File": os.path.isfile}


class VolumeError(Exception):
    """A volume or mount that cannot be given to the step (the node's Error message)."""


@dataclass(frozen=True)
class WorkflowVolumes:
    """Where one workflow's volumes live on the host."""

    declared: Mapping[str, JSON]  # spec.volumes by name
    claims: frozenset[str]  # spec.volumeClaimTemplates' names
    workflow_dir: Path  # <run dir>/.volumes
    scratch_dir: str  # emptyDirs: <scratch>/.emptydir/<attempt>/<name>

    @classmethod
    def of(cls, spec: JSON, run_dir: Path, scratch_dir: str) -> WorkflowVolumes:
        declared = {v.get("name", ""): v for v in spec.get("volumes") or []}
        claims = frozenset(
            (c.get("metadata") or {}).get("name", "")
            for c in spec.get("volumeClaimTemplates") or []
        )
        return cls(declared, claims, run_dir / ".volumes", f"{scratch_dir}/.emptydir")

    def mounts(
        self,
        body: JSON,
        template_volumes: Sequence[JSON],
        attempt: str,
        prepared: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> tuple[Mount, ...]:
        """The step's bind mounts for its ``volumeMounts`` (sources made as needed;
        ``prepared``: the directories of configMap/secret volumes, by name, always
        mounted read-only as the kubelet does; ``env``: the container's environment,
        which a ``subPathExpr`` refers to)."""
        own = {v.get("name", ""): v for v in template_volumes}
        found = []
        for mount in body.get("volumeMounts") or []:
            name = str(mount.get("name", ""))
            target = str(mount.get("mountPath", ""))
            problem = mount_path_problem(target)
            if problem:
                raise VolumeError(f"volumeMounts {name!r}: {problem}")
            readonly = bool(mount.get("readOnly"))
            if prepared and name in prepared:
                source, readonly = prepared[name], True
            else:
                source = self._source(name, own.get(name) or self.declared.get(name), attempt)
            source = _sub_path(source, _sub_path_text(mount, env or {}, name), name)
            found.append(Mount(source, _resolved(name, target), readonly))
        return tuple(found)

    def _source(self, name: str, volume: JSON | None, attempt: str) -> str:
        if not _NAME.fullmatch(name) or len(name) > 63:
            raise VolumeError(f"volumeMounts: invalid volume name {name!r} (a DNS-1123 label)")
        if volume is None:
            if name in self.claims:
                return _directory(self.workflow_dir / name)
            raise VolumeError(
                f"volumeMounts {name!r}: no such volume; declare it in spec.volumes, "
                "the template's volumes or spec.volumeClaimTemplates"
            )
        if "emptyDir" in volume:
            return _directory(Path(self.scratch_dir, attempt, name))
        if "hostPath" in volume:
            return _host_path(name, volume["hostPath"] or {})
        if "persistentVolumeClaim" in volume:
            claim = str((volume["persistentVolumeClaim"] or {}).get("claimName", ""))
            if claim in self.claims:
                return _directory(self.workflow_dir / claim)
            if not _CLAIM.fullmatch(claim) or len(claim) > 253:
                raise VolumeError(f"volume {name!r}: invalid claimName {claim!r}")
            return _directory(paths.data_home() / "volumes" / claim)
        kinds = ", ".join(sorted(k for k in volume if k != "name")) or "no source"
        raise VolumeError(
            f"volume {name!r}: {kinds} volumes are not supported locally "
            f"(only {', '.join(SUPPORTED)} and volumeClaimTemplates)"
        )

    def collect(self, succeeded: bool, gc: JSON | None) -> None:
        """The workflow ended: remove its claims as ``volumeClaimGC`` says."""
        strategy = (gc or {}).get("strategy") or "OnWorkflowSuccess"
        if strategy == "OnWorkflowCompletion" or succeeded:
            shutil.rmtree(self.workflow_dir, ignore_errors=True)


def _resolved(name: str, target: str) -> str:
    """The mount point with the host's symlinks on the way resolved (``/var/run/x``
    → ``/run/x``), as the kernel would follow them: a private root has to make the
    mount point where the step will find it; a system directory stays refused."""
    resolved = os.path.realpath(target)
    problem = mount_path_problem(resolved)
    if problem:
        raise VolumeError(f"volumeMounts {name!r}: {target} leads to {resolved}; {problem}")
    return resolved


def _directory(path: Path) -> str:
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def _host_path(name: str, spec: JSON) -> str:
    path = str(spec.get("path", ""))
    kind = str(spec.get("type") or "")
    if not path.startswith("/"):
        raise VolumeError(f"volume {name!r}: hostPath.path {path!r} is not absolute")
    check = _MUST_EXIST.get(kind)
    if check is not None and not check(path):
        raise VolumeError(f"volume {name!r}: hostPath {path} is not an existing {kind.lower()}")
    if kind == "FileOrCreate" and not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Path(path).touch()
    elif kind in ("", "DirectoryOrCreate") and not os.path.exists(path):
        os.makedirs(path, exist_ok=True)
    elif not os.path.exists(path):
        raise VolumeError(f"volume {name!r}: hostPath {path} does not exist (type {kind})")
    return path


def _sub_path_text(mount: JSON, env: Mapping[str, str], name: str) -> str:
    """A mount's ``subPath``, or its ``subPathExpr`` with each ``$(VAR)`` replaced by
    the container's variable (``$$`` is a literal ``$``), as the kubelet's
    ``ExpandContainerVolumeMounts``: a variable unset or empty is an error."""
    expr = mount.get("subPathExpr")
    if not expr:
        return str(mount.get("subPath") or "")
    if mount.get("subPath"):
        raise VolumeError(
            f"volumeMounts {name!r}: subPathExpr and subPath are mutually exclusive; keep one"
        )
    missing: set[str] = set()

    def value(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        found = env.get(match.group(1), "")
        if not found:
            missing.add(match.group(1))
        return found

    text = REFERENCE.sub(value, str(expr))
    if missing:
        raise VolumeError(
            f"volumeMounts {name!r}: subPathExpr: missing value for {', '.join(sorted(missing))} "
            "(set it in the container's env)"
        )
    return text


def _sub_path(source: str, sub: str, name: str) -> str:
    """The part of a volume a ``subPath`` mounts, as the kubelet's ``makeMounts``: what
    the volume has there — a directory, or a single file such as a ConfigMap's key
    (then mounted as a file at the ``mountPath``) — else a new empty directory
    (``SafeMakeDir``: a ConfigMap key the volume lacks gives an empty directory, not
    an error); never a path a symlink leads out of the volume."""
    if sub.startswith("/") or ".." in sub.split("/"):
        raise VolumeError(f"volumeMounts {name!r}: subPath {sub!r} must be relative, without '..'")
    parts = [p for p in sub.split("/") if p and p != "."]
    if not parts:
        return source
    try:
        path = inside(Path(source), *parts)
    except InvalidInput:
        raise VolumeError(
            f"volumeMounts {name!r}: subPath {sub!r} leads out of the volume through a "
            "symlink; give the path inside the volume"
        ) from None
    return str(path) if os.path.lexists(path) else _directory(path)
