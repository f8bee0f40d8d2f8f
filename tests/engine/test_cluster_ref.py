"""The cluster a workflow runs against: ``--kubeconfig``/``--namespace`` on ``run``.

Checked at submission (the file exists, is bounded, is a kubeconfig; errors name
the option and never show the content), stored as a path only, and required —
with one error naming ``--kubeconfig`` — when the workflow has a resource
template; a refused workflow leaves nothing in the store.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.cluster import KUBECONFIG_ANNOTATION, cluster_of, cluster_ref
from clusterforge.errors import InvalidInput

CLI = [sys.executable, "-m", "clusterforge.cli"]
SECRET = "token-that-must-never-show"
KUBECONFIG = f"""
apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:1"}}}}]
users: [{{name: u, user: {{token: {SECRET}}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u}}}}]
current-context: x
"""
HELLO = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: hello-cluster}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: [sh, -c, 'echo {{workflow.namespace}}']}
"""
RESOURCE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: needs-cluster}
spec:
  entrypoint: main
  templates:
  - name: main
    steps: [[{name: make, template: make-cm}]]
  - name: make-cm
    resource:
      action: create
      manifest: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: made}
"""


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    return path


def test_a_kubeconfig_is_stored_as_its_path_with_the_namespace(
    tmp_path: Path, kubeconfig: Path
) -> None:
    engine = LocalEngine(tmp_path / "home")
    record = engine.prepare(Submission(text=HELLO, kubeconfig=str(kubeconfig), namespace="team-a"))
    assert record.namespace == "team-a"
    assert record.manifest["metadata"]["annotations"][KUBECONFIG_ANNOTATION] == str(kubeconfig)
    assert SECRET not in repr(record)
    ref = cluster_of(record.manifest, record.namespace)
    assert ref is not None
    assert (ref.kubeconfig, ref.namespace) == (str(kubeconfig), "team-a")


def test_a_documents_own_annotation_never_names_the_cluster(tmp_path: Path) -> None:
    text = HELLO.replace(
        "{name: hello-cluster}",
        f"{{name: sneaky, annotations: {{{KUBECONFIG_ANNOTATION}: /etc/passwd}}}}",
    )
    record = LocalEngine(tmp_path / "home").prepare(Submission(text=text))
    assert cluster_of(record.manifest, record.namespace) is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "does not exist"),
        ("not: [a, kubeconfig", "not readable as YAML"),
        ("apiVersion: v1\nkind: Config\n", "not a kubeconfig"),
        ("x" * (1 << 20) + "y", "larger than 1,048,576 bytes"),
    ],
)
def test_a_bad_kubeconfig_is_one_error_naming_the_option(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    path = tmp_path / "kc"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InvalidInput) as caught:
        cluster_ref(path)
    assert str(caught.value).startswith(f"--kubeconfig {path}: {reason}")
    assert "x" * 100 not in str(caught.value)


def test_a_directory_is_not_a_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is not a file"):
        cluster_ref(tmp_path)


def test_namespaces_that_disagree_are_refused(tmp_path: Path, kubeconfig: Path) -> None:
    text = HELLO.replace("{name: hello-cluster}", "{name: placed, namespace: team-b}")
    engine = LocalEngine(tmp_path / "home")
    with pytest.raises(InvalidInput, match="--namespace team-a: the workflow's metadata"):
        engine.prepare(Submission(text=text, namespace="team-a"))
    with pytest.raises(InvalidInput, match="--namespace 'Team_A': not a namespace name"):
        engine.prepare(Submission(text=HELLO, namespace="Team_A"))
    assert engine.prepare(Submission(text=text)).namespace == "team-b"


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLUSTERFORGE_HOME": str(tmp_path / "home")}
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_run_without_kubeconfig_refuses_a_resource_template_and_stores_nothing(
    tmp_path: Path,
) -> None:
    wf = tmp_path / "wf.yaml"
    wf.write_text(RESOURCE)
    done = _cli(tmp_path, "run", str(wf), "--wait")
    assert done.returncode == 2, done.stderr
    assert "spec.templates[1].resource (template 'make-cm')" in done.stderr
    assert "--kubeconfig FILE" in done.stderr
    assert "Traceback" not in done.stderr
    listed = _cli(tmp_path, "list", "-o", "json")
    assert listed.returncode == 0
    assert "needs-cluster" not in listed.stdout


def test_run_with_a_missing_kubeconfig_names_the_option(tmp_path: Path) -> None:
    wf = tmp_path / "wf.yaml"
    wf.write_text(HELLO)
    missing = tmp_path / "nope"
    done = _cli(tmp_path, "run", str(wf), "--kubeconfig", str(missing), "--wait")
    assert done.returncode == 2
    assert f"--kubeconfig {missing}: does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_with_kubeconfig_and_namespace(tmp_path: Path, kubeconfig: Path) -> None:
    wf = tmp_path / "wf.yaml"
    wf.write_text(HELLO)
    args = ("--kubeconfig", str(kubeconfig), "--namespace", "team-a")
    done = _cli(tmp_path, "run", str(wf), *args, "--wait", "-o", "json")
    assert done.returncode == 0, done.stderr
    assert '"namespace": "team-a"' in done.stdout
    logs = _cli(tmp_path, "logs", "hello-cluster")
    assert "team-a" in logs.stdout
    assert SECRET not in done.stdout + done.stderr + logs.stdout


def test_an_unreachable_cluster_fails_the_node_after_argos_retries(
    tmp_path: Path, kubeconfig: Path
) -> None:
    """kubectl against a closed port: a transient error, tried again as Argo's executor
    does, then the node fails with Argo's message — no traceback, no credentials."""
    engine = LocalEngine(tmp_path / "home")
    view = engine.submit(Submission(text=RESOURCE, kubeconfig=str(kubeconfig)))
    engine.join(view.id, timeout=120)
    view = engine.get(view.id)
    made = next(n for n in view.nodes.values() if n.display_name == "make")
    assert (view.phase, made.phase) == ("Failed", "Failed")
    assert made.message.startswith("no more retries "), made.message
    assert "connection refused" in made.message, made.message
    assert SECRET not in made.message


def test_the_argo_backends_checker_needs_no_kubeconfig(tmp_path: Path) -> None:
    """On Argo the workflow runs inside its cluster: the checker the Argo backend
    prepares with (``in_cluster``) accepts a resource template as it is."""
    record = LocalEngine(tmp_path / "home", in_cluster=True).prepare(Submission(text=RESOURCE))
    assert cluster_of(record.manifest, record.namespace) is None
    assert record.manifest["spec"]["templates"][1]["resource"]["action"] == "create"
