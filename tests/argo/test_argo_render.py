"""``clusterforge argo render``: the stage library and sensors as manifests for Argo."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from clusterforge.stages.argo import workflow_templates
from tests.argo.conftest import run_cli


def _docs(path: Path) -> list[dict[str, object]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_every_shipped_template_is_rendered_once(rendered: Path) -> None:
    names = {t["metadata"]["name"] for t in workflow_templates()}
    assert {"preflight", "cluster-core", "addons", "validation", "cluster-build"} <= names
    assert "cluster-teardown" in names
    files = sorted((rendered / "manifests" / "workflowtemplates").glob("*.yaml"))
    assert [f.stem for f in files] == sorted(names)
    for path in files:
        (doc,) = _docs(path)
        assert doc["kind"] == "WorkflowTemplate"
        assert doc["metadata"]["name"] == path.stem  # type: ignore[index]


def test_sensors_use_k8s_create_triggers_and_name_their_accounts(rendered: Path) -> None:
    sensors = _docs(rendered / "manifests" / "events" / "sensors.yaml")
    names = {s["metadata"]["name"] for s in sensors}  # type: ignore[index]
    assert {"clusterforge-build", "clusterforge-destroy", "clusterforge-stage-core"} <= names
    for sensor in sensors:
        spec = sensor["spec"]
        assert spec["template"]["serviceAccountName"] == "clusterforge-sensor"  # type: ignore[index]
        for trigger in spec["triggers"]:  # type: ignore[index]
            template = trigger["template"]
            assert "argoWorkflow" not in template
            k8s = template["k8s"]
            assert k8s["operation"] == "create"
            resource = k8s["source"]["resource"]
            assert resource["kind"] == "Workflow"
            assert resource["spec"]["serviceAccountName"] == "clusterforge-workflow"
            assert resource["spec"]["workflowTemplateRef"]["name"]
            dests = {p["dest"] for p in k8s["parameters"]}
            assert {"metadata.name", "spec.arguments"} <= dests


def test_the_event_source_serves_every_event_the_sensors_need(rendered: Path) -> None:
    sensors = _docs(rendered / "manifests" / "events" / "sensors.yaml")
    (source,) = _docs(rendered / "manifests" / "events" / "eventsource.yaml")
    wanted = {d["eventName"] for s in sensors for d in s["spec"]["dependencies"]}  # type: ignore[index]
    assert set(source["spec"]["webhook"]) == wanted  # type: ignore[index]
    assert source["metadata"]["name"] == "clusterforge"  # type: ignore[index]
    for name, hook in source["spec"]["webhook"].items():  # type: ignore[index]
        assert hook["endpoint"] == f"/{name}"
        assert hook["method"] == "POST"


def test_a_spec_renders_the_build_workflow_with_its_parameters(rendered: Path) -> None:
    (workflow,) = _docs(rendered / "manifests" / "workflow.yaml")
    spec = workflow["spec"]
    assert spec["workflowTemplateRef"] == {"name": "cluster-build"}  # type: ignore[index]
    params = {p["name"]: p["value"] for p in spec["arguments"]["parameters"]}  # type: ignore[index]
    assert params["cluster-name"] == "dev"
    assert params["worker-image"] == "clusterforge/worker:0.1.0"
    (build,) = [t for t in workflow_templates() if t["metadata"]["name"] == "cluster-build"]
    required = {p["name"] for p in build["spec"]["arguments"]["parameters"] if "value" not in p}
    assert required
    assert required <= set(params)  # everything without a default is supplied


def test_worker_image_is_set_and_checked(tmp_path: Path) -> None:
    done = run_cli(
        "argo", "render", "--templates", "-o", str(tmp_path), "--worker-image", "r.io/w:1"
    )
    assert done.returncode == 0, done.stderr
    build = _docs(tmp_path / "manifests" / "workflowtemplates" / "cluster-build.yaml")[0]
    params = {p["name"]: p.get("value") for p in build["spec"]["arguments"]["parameters"]}  # type: ignore[index]
    assert params["worker-image"] == "r.io/w:1"
    bad = run_cli(
        "argo", "render", "--templates", "-o", str(tmp_path / "x"), "--worker-image", "a b;c"
    )
    assert bad.returncode != 0
    assert "--worker-image" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("args", [[], ["--templates", "examples/dev-cluster.yaml"]])
def test_render_needs_exactly_one_of_spec_or_templates(args: list[str], tmp_path: Path) -> None:
    done = run_cli("argo", "render", *args, "-o", str(tmp_path / "out"))
    assert done.returncode != 0
    assert "name a cluster SPEC or pass --templates" in done.stderr
    assert not (tmp_path / "out").exists()


def test_helm_lints_and_templates_the_chart(rendered: Path, helm: str, tmp_path: Path) -> None:
    chart = rendered / "chart" / "clusterforge"
    lint = subprocess.run([helm, "lint", "--strict", str(chart)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    out = subprocess.run(
        [helm, "template", "cf", str(chart), "-n", "builds", "--set", "workerImage=r.io/w:2"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    docs = [d for d in yaml.safe_load_all(out.stdout) if d]
    kinds = sorted({d["kind"] for d in docs})
    assert kinds == sorted(
        {
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "ConfigMap",
            "WorkflowTemplate",
            "Sensor",
            "EventSource",
        }
    )
    rendered_templates = {d["metadata"]["name"]: d for d in docs if d["kind"] == "WorkflowTemplate"}
    shipped = {t["metadata"]["name"]: t for t in workflow_templates()}
    assert set(rendered_templates) == set(shipped)
    # Argo's {{…}} expressions pass through Helm untouched; only the image changes.
    for name, template in shipped.items():
        expected = yaml.safe_dump(template["spec"]["templates"])
        assert yaml.safe_dump(rendered_templates[name]["spec"]["templates"]) == expected, name
    build = rendered_templates["cluster-build"]
    params = {p["name"]: p.get("value") for p in build["spec"]["arguments"]["parameters"]}
    assert params["worker-image"] == "r.io/w:2"
    roles = {d["metadata"]["name"]: d["rules"] for d in docs if d["kind"] == "Role"}
    assert roles["clusterforge-workflow"] == [
        {
            "apiGroups": ["argoproj.io"],
            "resources": ["workflowtaskresults"],
            "verbs": ["create", "patch"],
        }
    ]
    assert roles["clusterforge-sensor"] == [
        {"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["create"]}
    ]
    bindings = [d for d in docs if d["kind"] == "RoleBinding"]
    assert {s["namespace"] for b in bindings for s in b["subjects"]} == {"builds"}
    (repo,) = [d for d in docs if d["kind"] == "ConfigMap"]
    assert yaml.safe_load(repo["data"]["clusterforge"])["s3"]["bucket"] == "clusterforge-artifacts"


def test_helm_refuses_a_bad_worker_image_through_the_values_schema(
    rendered: Path, helm: str
) -> None:
    chart = rendered / "chart" / "clusterforge"
    out = subprocess.run(
        [helm, "template", "cf", str(chart), "--set", "workerImage=bad image"],
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0
    assert "workerImage" in out.stderr
