"""Finding a ConfigMap or Secret for a run: its files first, then its cluster.

Argo reads ConfigMaps and Secrets from the workflow's namespace when a node
needs them. A local run has up to two places: the manifest files it was given
(``--objects``, or ``objects.yaml`` in the engine's data directory) and the
cluster it runs against (``--kubeconfig``/``--namespace``, read with
``kubectl get -o json``). A file's object wins over the cluster's, so a user
can override one value locally. Files are read once per run; a cluster's
object is reused for :data:`CLUSTER_CACHE_SECONDS`. Both are kept in memory
only (a Secret's values never reach the store).

Misses raise :class:`ObjectMissing` with the message Kubernetes or Argo gives
(by the caller) plus what to do locally; ``not_found`` tells Argo's
"not found" (a ``valueFrom.default`` applies) from other failures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from clusterforge import paths
from clusterforge.engine.cluster import ClusterRef
from clusterforge.engine.objects._manifests import KubeObject, load_files, parse_object
from clusterforge.errors import InvalidInput

__all__ = ["ObjectMissing", "Objects"]

_KUBECTL_SECONDS = 30
CLUSTER_CACHE_SECONDS = 2.0
"""How long an object read from a cluster is reused (a semaphore's limit is asked
for on every poll); after that it is read again, so a ConfigMap a ``resource``
step created or changed is seen, as Argo's informer would see it."""


class ObjectMissing(Exception):
    """A ConfigMap, Secret or key a node needs is not there (the node's Error)."""

    def __init__(self, message: str, *, not_found: bool = True) -> None:
        super().__init__(message)
        self.not_found = not_found


class Objects:
    """The ConfigMaps and Secrets one run can read."""

    def __init__(
        self,
        objects: Sequence[KubeObject] = (),
        *,
        files: Sequence[str] = (),
        cluster: ClusterRef | None = None,
    ) -> None:
        self._files = tuple(files)
        self._local = list(objects)
        self.cluster = cluster
        self._fetched: dict[tuple[str, str, str], tuple[float, KubeObject | None]] = {}

    @classmethod
    def load(cls, files: Sequence[str], cluster: ClusterRef | None) -> Objects:
        """Read the run's files (refused with :class:`InvalidInput` when they went bad)."""
        objects = load_files([Path(f) for f in files], "objects file") if files else []
        return cls(objects, files=files, cluster=cluster)

    def get(self, kind: str, namespace: str, name: str) -> KubeObject | None:
        """The object, or ``None`` when no file and no cluster has it."""
        for obj in self._local:
            if obj.kind == kind and obj.name == name and obj.namespace in (None, namespace):
                return obj
        if self.cluster is None:
            return None
        key = (kind, namespace, name)
        cached = self._fetched.get(key)
        if cached is None or time.monotonic() - cached[0] > CLUSTER_CACHE_SECONDS:
            cached = (time.monotonic(), self._from_cluster(kind, namespace, name))
            self._fetched[key] = cached
        return cached[1]

    def cached(self, kind: str, namespace: str, name: str) -> bool:
        """Whether :meth:`get` answers without reading the cluster now."""
        if self.cluster is None or any(
            o.kind == kind and o.name == name and o.namespace in (None, namespace)
            for o in self._local
        ):
            return True
        found = self._fetched.get((kind, namespace, name))
        return found is not None and time.monotonic() - found[0] <= CLUSTER_CACHE_SECONDS

    def fix(self, kind: str, name: str, namespace: str) -> str:
        """What to do locally about a missing object or key, naming where we looked."""
        places = [f"the objects file {', '.join(self._files)}"] if self._files else []
        if self.cluster is not None:
            places.append(
                f"namespace {namespace!r} of the cluster of --kubeconfig {self.cluster.kubeconfig}"
            )
        if not places:
            return (
                f"this run was given no ConfigMaps or Secrets: define {kind} {name!r} in a file "
                "of manifests and pass it with --objects FILE (or save it as objects.yaml in "
                "the data directory), or run against a cluster with --kubeconfig"
            )
        return f"locally: define {kind} {name!r} in {' or '.join(places)}"

    def _from_cluster(self, kind: str, namespace: str, name: str) -> KubeObject | None:
        """``kubectl get`` of one object (never logged: a Secret's output is credentials)."""
        assert self.cluster is not None
        kubectl = _kubectl()
        where = f"--kubeconfig {self.cluster.kubeconfig}"
        if kubectl is None:
            raise ObjectMissing(
                f"{kind} {name!r}: kubectl was not found to read it from the cluster of "
                f"{where}; install it (clusterforge tools install) or put it on PATH",
                not_found=False,
            )
        argv = [
            kubectl,
            f"--kubeconfig={self.cluster.kubeconfig}",
            f"--namespace={namespace}",
            "get",
            kind.lower(),
            name,
            "--ignore-not-found",
            "--output=json",
        ]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=_KUBECTL_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise ObjectMissing(
                f"{kind} {name!r}: reading it from the cluster of {where} "
                f"failed ({type(err).__name__})",
                not_found=False,
            ) from None
        if done.returncode != 0:
            # kubectl's stderr names the API error, never an object's data.
            reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            raise ObjectMissing(
                f"{kind} {name!r}: reading it from the cluster of {where} "
                f"failed: {reason[0][:300]}",
                not_found=False,
            )
        if not done.stdout.strip():
            return None
        try:
            return parse_object(json.loads(done.stdout), f"{kind} {namespace}/{name} of {where}")
        except (ValueError, InvalidInput) as err:
            raise ObjectMissing(str(err), not_found=False) from None


def _kubectl() -> str | None:
    """kubectl from the pinned tool cache first, then PATH."""
    search = os.pathsep.join([str(paths.cache_home() / "bin"), os.environ.get("PATH", "")])
    return shutil.which("kubectl", path=search)
