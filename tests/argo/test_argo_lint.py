"""``clusterforge argo lint``: Argo's JSON schema and Argo's own Go validator, offline.

Every shipped template, the built-in sensors (as the API runs them and as
rendered for Argo Events), the rendered chart and the build Workflow of each
example spec pass; a broken template is reported with its file and line.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from clusterforge.stages.argo import lint_manifests, workflow_templates
from tests.argo.conftest import REPO, run_cli

pytestmark = pytest.mark.cluster  # needs argo-validate, built by `make setup`

GOOD = """\
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: demo
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: a
        template: echo
      - name: b
        template: echo
        depends: a
  - name: echo
    container:
      image: alpine:3
      command: [echo, hi]
"""


def _lint_json(*paths: Path) -> tuple[int, dict[str, object]]:
    done = run_cli("argo", "lint", "-o", "json", *(str(p) for p in paths))
    assert "Traceback" not in done.stderr
    return done.returncode, json.loads(done.stdout)


def test_every_shipped_template_and_sensor_passes(argo_validate: Path, rendered: Path) -> None:
    sources = [
        REPO / "src" / "clusterforge" / "templates",
        REPO / "src" / "clusterforge" / "api" / "sensors",
        rendered,  # manifests/, and the chart's files/ (its Go-templated templates/ skipped)
    ]
    report = lint_manifests(sources, validator=argo_validate)
    assert report.problems == []
    sensors = sum(
        1
        for path in (REPO / "src" / "clusterforge" / "api" / "sensors").glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc.get("kind") == "Sensor"
    )
    # templates and sensors three times (shipped, rendered, in the chart), one
    # EventSource twice, one Workflow
    assert report.checked == 3 * len(workflow_templates()) + 3 * sensors + 3
    assert not any("/templates/" in str(f) and "/chart/" in str(f) for f in report.files)
    assert report.workflows_version == "v3.7.18"


def test_each_example_spec_renders_a_workflow_argo_accepts(
    argo_validate: Path, tmp_path: Path
) -> None:
    for example in sorted((REPO / "examples").glob("*.yaml")):
        out = tmp_path / example.stem
        done = run_cli("argo", "render", str(example), "-o", str(out))
        assert done.returncode == 0, done.stderr
        report = lint_manifests([out / "manifests"], validator=argo_validate)
        assert report.problems == [], example.name


def test_the_helm_chart_output_passes(argo_validate: Path, rendered: Path, helm: str) -> None:
    chart = rendered / "chart" / "clusterforge"
    out = subprocess.run([helm, "template", "cf", str(chart)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    manifest = rendered / "helm-output.yaml"
    manifest.write_text(out.stdout)
    report = lint_manifests([manifest], validator=argo_validate)
    assert report.problems == []
    rendered_sensors = list(
        yaml.safe_load_all((rendered / "manifests/events/sensors.yaml").read_text())
    )
    assert report.checked == len(workflow_templates()) + len(rendered_sensors) + 1


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("    container:\n", "    contaner:\n", 17, ["unknown field", "contaner"]),
        (
            "        template: echo\n      - name: b",
            "        template: ehco\n      - name: b",
            12,
            ["ehco"],
        ),
        ("        depends: a\n", "        depends: x\n", 15, ["x"]),
    ],
    ids=["typo-field", "undefined-template", "bad-depends"],
)
def test_a_broken_template_is_reported_with_file_and_line(
    argo_validate: Path, tmp_path: Path, old: str, new: str, line: int, words: list[str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    assert lint_manifests([good], validator=argo_validate).problems == []
    bad = tmp_path / "bad.yaml"
    assert old in GOOD
    bad.write_text(GOOD.replace(old, new))

    code, report = _lint_json(bad)

    assert code == 2
    problems = report["problems"]
    assert isinstance(problems, list)
    assert problems, report
    first = problems[0]
    assert first["file"] == str(bad)
    assert first["line"] == line, first
    for word in words:
        assert word in first["message"], first


def test_text_output_names_file_and_line(argo_validate: Path, tmp_path: Path) -> None:
    bad = tmp_path / "wf.yaml"
    bad.write_text(
        GOOD.replace("kind: WorkflowTemplate", "kind: Workflow").replace(
            "  entrypoint: main\n", "  entrypoint: nowhere\n"
        )
    )
    done = run_cli("argo", "lint", str(bad))
    assert done.returncode == 2
    assert f"{bad}:6" in done.stderr
    assert "nowhere" in done.stderr


def test_schema_type_errors_are_found_with_their_line(argo_validate: Path, tmp_path: Path) -> None:
    text = GOOD.replace("  entrypoint: main\n", "  entrypoint: main\n  parallelism: lots\n")
    bad = tmp_path / "typed.yaml"
    bad.write_text(text)
    report = lint_manifests([bad], validator=argo_validate)
    schema = [p for p in report.problems if p.message.startswith("schema:")]
    assert schema, report.problems
    assert schema[0].line == 7
    assert schema[0].field == "spec.parallelism"


def test_integers_where_kubernetes_takes_int_or_string_pass(
    argo_validate: Path, tmp_path: Path
) -> None:
    text = GOOD.replace(
        "      command: [echo, hi]\n",
        "      command: [echo, hi]\n    retryStrategy: {limit: 3}\n    activeDeadlineSeconds: 10\n",
    )
    path = tmp_path / "ints.yaml"
    path.write_text(text)
    assert lint_manifests([path], validator=argo_validate).problems == []


def test_missing_paths_and_empty_folders_are_one_clear_error(tmp_path: Path) -> None:
    missing = run_cli("argo", "lint", str(tmp_path / "nope.yaml"))
    assert missing.returncode != 0
    assert "no such file or directory" in missing.stderr
    assert "Traceback" not in missing.stderr
    empty = run_cli("argo", "lint", str(tmp_path))
    assert empty.returncode != 0
    assert "no .yaml or .yml files" in empty.stderr


def test_sensor_typo_is_caught_by_argo_events_types(argo_validate: Path, tmp_path: Path) -> None:
    sensor = textwrap.dedent(
        """\
        apiVersion: argoproj.io/v1alpha1
        kind: Sensor
        metadata: {name: s}
        spec:
          dependencies:
          - {name: d, eventSourceName: clusterforge, eventName: build}
          triggers:
          - template:
              name: t
              k8s:
                operation: create
                sorce: {resource: {kind: Workflow}}
        """
    )
    path = tmp_path / "sensor.yaml"
    path.write_text(sensor)
    report = lint_manifests([path], validator=argo_validate)
    assert any("sorce" in p.message and p.line == 12 for p in report.problems), report.problems
