"""``clusterforge argo install``: the stage library into an existing cluster.

What ``argo up`` does for a local kwok cluster, for any cluster a kubeconfig
names: Argo's full CRDs (server-side apply: they are too large for the
client-side ``last-applied`` annotation), the controller's ConfigMap, and our
Helm chart (:func:`write_chart` of :func:`render`) as release
``clusterforge``. The controller itself is the platform team's (Argo's own
install manifests or chart); this installs what clusterforge needs beside it.

Nothing is applied until everything that can be checked is: the chart
renders (``helm template`` with the values given), the API server answers,
and the kubeconfig's user may create CRDs and ConfigMaps. Argo Events'
objects (the sensors and their EventSource) are installed only when the
cluster serves Argo Events' CRDs, or refused with ``--events`` when it does
not. The chart is installed ``--atomic``: a release that fails is rolled back.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clusterforge.errors import InvalidInput, OperationFailed
from clusterforge.stages.argo._chart import write_chart
from clusterforge.stages.argo._management import CONFIGMAP, controller_configmap, crd_files
from clusterforge.stages.argo._render import render
from clusterforge.tools import resolve

RELEASE = "clusterforge"
_EVENTS_CRD = "sensors.argoproj.io"
_NAMESPACE = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"

Report = Callable[[str], None]


@dataclass(frozen=True)
class Installed:
    """What ``install`` put into the cluster."""

    namespace: str
    crds: int
    events: bool
    release: str = RELEASE


def install(
    kubeconfig: Path,
    namespace: str,
    *,
    sensor_files: list[Path],
    worker_image: str,
    events: bool | None = None,
    report: Report = lambda _m: None,
) -> Installed:
    """Install into ``namespace`` of the kubeconfig's cluster (see the module doc)."""
    if not re.fullmatch(_NAMESPACE, namespace):
        raise InvalidInput(f"--namespace {namespace!r}: a DNS-1123 label (e.g. builds)")
    if not kubeconfig.is_file():
        raise InvalidInput(f"--kubeconfig {str(kubeconfig)!r}: no such file")
    kube = _Kubectl(kubeconfig)
    crds = crd_files()
    kube.reachable()
    kube.allowed("create", "customresourcedefinitions")
    kube.allowed("create", "configmaps", namespace)
    served = kube.serves(_EVENTS_CRD)
    if events and not served:
        raise InvalidInput(
            f"--events: the cluster has no Argo Events CRDs ({_EVENTS_CRD}); install Argo "
            "Events first, or leave --events out"
        )
    with_events = served if events is None else events
    with tempfile.TemporaryDirectory(prefix="clusterforge-install-") as scratch:
        chart = write_chart(
            render(sensor_files, worker_image=worker_image), Path(scratch) / "chart"
        )
        values = [f"--set=workerImage={worker_image}", f"--set=events.enabled={with_events}"]
        helm = _Helm(kubeconfig, namespace)
        helm.run("template", RELEASE, str(chart), *values)  # renders, or nothing is applied
        report(f"applying Argo's CRDs ({len(crds)}, server-side)")
        for crd in crds:
            kube.run("apply", "--server-side", "--force-conflicts", f"-f={crd}")
        kube.run(
            "wait",
            "--for=condition=Established",
            "--timeout=180s",
            *(f"-f={crd}" for crd in crds),
        )
        kube.run("create", "namespace", namespace, ok_if="AlreadyExists")
        report(f"writing {CONFIGMAP} in {namespace}")
        kube.run("apply", "--server-side", "-f=-", stdin=controller_configmap(9090, namespace))
        report(f"installing the chart as release {RELEASE} in {namespace}")
        helm.run("upgrade", "--install", "--atomic", "--wait", RELEASE, str(chart), *values)
    return Installed(namespace, len(crds), with_events)


class _Kubectl:
    def __init__(self, kubeconfig: Path) -> None:
        self.argv = [str(resolve("kubectl")), f"--kubeconfig={kubeconfig}"]
        self.kubeconfig = kubeconfig

    def run(self, *args: str, stdin: str | None = None, ok_if: str = "") -> str:
        done = subprocess.run(
            [*self.argv, *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode != 0 and not (ok_if and ok_if in done.stderr):
            raise OperationFailed(f"kubectl {args[0]} failed: {done.stderr.strip()[-600:]}")
        return done.stdout

    def reachable(self) -> None:
        done = subprocess.run(
            [*self.argv, "--request-timeout=10s", "get", "--raw=/version"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise OperationFailed(
                f"cannot reach the Kubernetes API server of {self.kubeconfig}: "
                f"{done.stderr.strip()[-300:]}; check --kubeconfig and that the cluster is up"
            )

    def allowed(self, verb: str, resource: str, namespace: str | None = None) -> None:
        where = [f"--namespace={namespace}"] if namespace else []
        done = subprocess.run(
            [*self.argv, "auth", "can-i", verb, resource, *where],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if done.stdout.strip() != "yes":
            scope = f" in namespace {namespace}" if namespace else ""
            raise OperationFailed(
                f"the kubeconfig's user may not {verb} {resource}{scope} (RBAC); installing "
                "Argo's CRDs and the chart needs cluster-admin, nothing was applied"
            )

    def serves(self, crd: str) -> bool:
        done = subprocess.run(
            [*self.argv, "get", "crd", crd, "-o=name"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        return done.returncode == 0


class _Helm:
    def __init__(self, kubeconfig: Path, namespace: str) -> None:
        self.argv = [str(resolve("helm")), f"--kubeconfig={kubeconfig}", f"--namespace={namespace}"]

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [*self.argv, *args], capture_output=True, text=True, check=False, timeout=600
        )
        if done.returncode != 0:
            raise OperationFailed(f"helm {args[0]} failed: {done.stderr.strip()[-600:]}")
        return done.stdout
