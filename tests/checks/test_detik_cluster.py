"""DETIK against a real kwok cluster, through the real kubectl.

Uses the session fixture ``kwok_cluster`` (an object with ``.kubeconfig``)
from tests/conftest.py. Until that fixture exists these tests skip, saying
so; they never fake a cluster.

Every test works in its own namespace with its own kwok node, so it does not
depend on (or disturb) the node groups the fixture cluster was built with.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from detik_fake import HERE, clusterforge_bin

from clusterforge.checks import detik
from clusterforge.checks.detik import ExitCode

pytestmark = pytest.mark.cluster


@dataclass(frozen=True)
class Workload:
    kubeconfig: Path
    kubectl: Path
    namespace: str
    node: str

    def verify(self, sentence: str, **kwargs: Any) -> detik.DetikResult:
        kwargs.setdefault("namespace", self.namespace)
        return detik.verify(
            sentence, kubeconfig=self.kubeconfig, client=[str(self.kubectl)], **kwargs
        )


def _kubectl_path(cluster: object) -> Path:
    given = getattr(cluster, "kubectl", None)
    if given:
        return Path(given)
    from clusterforge.tools import resolve

    return resolve("kubectl")


def _apply(kubectl: Path, kubeconfig: Path, objects: list[dict[str, Any]]) -> None:
    subprocess.run(
        [str(kubectl), f"--kubeconfig={kubeconfig}", "apply", "-f", "-"],
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
        text=True,
        capture_output=True,
        check=True,
        timeout=120,
    )


def _pod(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name.split("-")[0]}},
        "spec": {"containers": [{"name": "main", "image": "example.invalid/app:1"}], **spec},
    }


@pytest.fixture(scope="module")
def workload(request: pytest.FixtureRequest) -> Iterator[Workload]:
    try:
        cluster = request.getfixturevalue("kwok_cluster")
    except pytest.FixtureLookupError:
        pytest.skip("needs the kwok_cluster fixture (tests/conftest.py, kwok provider) — absent")
    kubeconfig = Path(cluster.kubeconfig)
    kubectl = _kubectl_path(cluster)
    suffix = secrets.token_hex(3)
    namespace, node = f"detik-{suffix}", f"detik-{suffix}"
    on_node = {"nodeName": node}
    _apply(
        kubectl,
        kubeconfig,
        [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": node,
                    "annotations": {"kwok.x-k8s.io/node": "fake"},
                    "labels": {"detik-test": suffix, "type": "kwok"},
                },
                "spec": {},
            },
        ],
    )
    _apply(
        kubectl,
        kubeconfig,
        [
            _pod("web-0", namespace, **on_node),
            _pod("web-1", namespace, **on_node),
            # Never schedulable: stays Pending.
            _pod("stuck-0", namespace, nodeSelector={"detik-test": "nowhere"}),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "namespace": namespace},
                "spec": {
                    "selector": {"app": "web"},
                    "ports": [
                        {"name": "http", "port": 80, "targetPort": 8080},
                        {"name": "https", "port": 443, "targetPort": 8443},
                    ],
                },
            },
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "api", "namespace": namespace},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "api"}},
                    "template": {
                        "metadata": {"labels": {"app": "api"}},
                        "spec": {
                            "nodeSelector": {"detik-test": suffix},
                            "containers": [{"name": "main", "image": "example.invalid/api:1"}],
                        },
                    },
                },
            },
        ],
    )
    found = Workload(kubeconfig, kubectl, namespace, node)
    # The pods become Running once kwok has marked them so; DETIK's try waits.
    detik.assert_sentence(
        "at most 60 times every 1s to find 2 pods named '^web-' with 'status' being 'running'",
        kubeconfig=kubeconfig,
        namespace=namespace,
        client=[str(kubectl)],
    )
    yield found
    for kind, name, extra in (("namespace", namespace, ["--wait=false"]), ("node", node, [])):
        subprocess.run(
            [str(kubectl), f"--kubeconfig={kubeconfig}", "delete", kind, name, *extra],
            capture_output=True,
            check=False,
            timeout=120,
        )


@pytest.mark.parametrize(
    ("sentence", "code", "fragment"),
    [
        ("there are 2 pods named '^web-'", ExitCode.OK, "found 2 pods"),
        ("there are 3 pods named '^web-'", ExitCode.FAILED, "found 2: web-0 (Running), web-1"),
        ("there is 1 pod named 'stuck'", ExitCode.OK, ""),
        ("there are less than 1 pods named 'stuck'", ExitCode.FAILED, "stuck-0 (Pending)"),
        ("there are more than 2 pods named '-'", ExitCode.OK, ""),
        ("there is 1 service named 'web'", ExitCode.OK, ""),
        ("there is 0 service named 'nothing'", ExitCode.OK, ""),
        ("'status' is 'running' for pods named '^web-'", ExitCode.OK, "all 2 pods"),
        ("'status' is 'running' for pods named 'stuck'", ExitCode.FAILED, "stuck-0 is Pending"),
        ("'status' is 'running' for pods named 'nothing'", ExitCode.FAILED, "found no pods"),
        ("'status' matches '^Running$' for pods named 'web'", ExitCode.OK, ""),
        ("'status' matches '^running$' for pods named 'web'", ExitCode.FAILED, "is Running"),
        ("'port' is '80,443' for services named '^web$'", ExitCode.OK, ""),
        ("'port' is '80' for services named '^web$'", ExitCode.FAILED, "web is 80,443"),
        ("'targetPort' matches '^8080,8443$' for svc named 'web'", ExitCode.OK, ""),
        ("'.spec.nodeName' is '{node}' for pods named '^web-'", ExitCode.OK, ""),
        ("'spec.containers[*].image' matches 'app:[[:digit:]]+$' for pods named 'web'",
         ExitCode.OK, ""),
        (
            "at most 60 times every 1s to get deployments named '^api$' and verify that "
            "'status.readyReplicas' is more than '1'",
            ExitCode.OK,
            "",
        ),
        (
            "at most 2 times every 1s to get deployments named '^api$' and verify that "
            "'status.readyReplicas' is less than '2'",
            ExitCode.FAILED,
            "api is 2, not less than 2",
        ),
        (
            "at most 2 times every 1s to get pods named 'stuck' and verify that 'status' is "
            "'running'",
            ExitCode.FAILED,
            "stuck-0 is Pending",
        ),
        (
            "at most 2 times every 1s to get pods named 'stuck' and verify that 'status' "
            "matches '^Pend'",
            ExitCode.OK,
            "",
        ),
        (
            "at most 2 times every 1s to find 2 pods named '-' with 'status' being 'running'",
            ExitCode.FAILED,
            "found 4",
        ),
        (
            "at most 5 times every 1s to find 1 pods named '-' with 'status' matching 'Pend'",
            ExitCode.OK,
            "",
        ),
        ("there are 0 frobnicators named 'x'", ExitCode.FAILED, "frobnicators"),
    ],
)  # fmt: skip
def test_every_form_on_a_real_cluster(
    workload: Workload, sentence: str, code: ExitCode, fragment: str
) -> None:
    result = workload.verify(sentence.replace("{node}", workload.node))
    assert result.exit_code is code, result.describe()
    assert fragment in result.message


def test_namespace_selection(workload: Workload) -> None:
    env = {**os.environ, "DETIK_CLIENT_NAMESPACE": workload.namespace}
    assert workload.verify("there are 2 pods named '^web-'", namespace=None, env=env).ok
    everywhere = workload.verify(
        f"there is 1 namespace named '^{workload.namespace}$'", namespace=None, all_namespaces=True
    )
    assert everywhere.ok, everywhere.describe()
    env = {**os.environ, "DETIK_CLIENT_NAMESPACE_ALL": "true"}
    assert workload.verify("there are 2 pods named '^web-'", namespace=None, env=env).ok
    # kube-system holds no pods of ours
    assert workload.verify("there are 0 pods named '^web-'", namespace="kube-system").ok


def test_cli_on_a_real_cluster(workload: Workload) -> None:
    env = {**os.environ, "DETIK_CLIENT_NAME": str(workload.kubectl)}
    base = [str(clusterforge_bin()), "detik", "--kubeconfig", str(workload.kubeconfig)]
    base += ["-n", workload.namespace]
    ok = subprocess.run(
        [*base, "there are 2 pods named '^web-'"], capture_output=True, text=True, env=env,
        check=False, timeout=120,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    sentence = "'status' is 'running' for pods named '^(web|stuck)-'"
    failed = subprocess.run(
        [*base, sentence], capture_output=True, text=True, env=env, check=False, timeout=120
    )
    assert failed.returncode == 3
    assert "1 of 3 do not: stuck-0 is Pending" in failed.stderr


@pytest.mark.skipif(shutil.which("bats") is None, reason="bats is not installed")
def test_bats_file_on_a_real_cluster(workload: Workload) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DETIK_")}
    env |= {
        "KUBECONFIG": str(workload.kubeconfig),
        "DETIK_TEST_KUBECTL": str(workload.kubectl),
        "DETIK_TEST_NAMESPACE": workload.namespace,
        "CLUSTERFORGE_BIN": str(clusterforge_bin()),
    }
    done = subprocess.run(
        ["bats", "--tap", str(HERE / "detik_cluster.bats")],
        capture_output=True, text=True, env=env, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == "1..3"
