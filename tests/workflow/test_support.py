"""The local-support table stays honest, and the package's public surface is pinned.

Every field Hera's models define in the places the checks look at must be
either honoured by the local engine or listed in ``LOCAL_SUPPORT`` with what
happens to it — so a new Argo field (a Hera upgrade) cannot slip through
silently: this test fails until someone decides.
"""

from __future__ import annotations

import yaml
from hera.workflows import models as m
from pydantic import BaseModel

import clusterforge.workflow as workflow
from clusterforge.workflow import LOCAL_SUPPORT, TemplateLibrary, check, load_text
from clusterforge.workflow._support import HONOURED

PLACES: dict[str, type[BaseModel]] = {
    "spec": m.WorkflowSpec,
    "template": m.Template,
    "dag": m.DAGTemplate,
    "task": m.DAGTask,
    "step": m.WorkflowStep,
    "container": m.Container,
    "script": m.ScriptTemplate,
    "env": m.EnvVar,
    "inputs": m.Inputs,
    "outputs": m.Outputs,
    "parameter": m.Parameter,
    "valueFrom": m.ValueFrom,
    "retryStrategy": m.RetryStrategy,
    "backoff": m.Backoff,
    "sequence": m.Sequence,
    "synchronization": m.Synchronization,
    "semaphore": m.SemaphoreRef,
    "envSource": m.EnvVarSource,
}


def _fields(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def test_every_field_is_either_honoured_or_listed_with_what_happens() -> None:
    container_fields = _fields(m.Container)
    undecided = []
    for where, model in PLACES.items():
        for name in sorted(_fields(model)):
            key = f"{where}.{name}"
            if where == "script" and name in container_fields:
                key = f"container.{name}"  # a script's container fields share the container rows
            if key not in HONOURED and key not in LOCAL_SUPPORT:
                undecided.append(key)
    assert undecided == []


def test_no_field_is_both_honoured_and_unsupported() -> None:
    assert HONOURED.isdisjoint(LOCAL_SUPPORT)


def test_every_row_names_a_real_field_and_says_what_happens() -> None:
    for key, text in LOCAL_SUPPORT.items():
        where, _, name = key.partition(".")
        assert name in _fields(PLACES[where]), key
        assert text.startswith(("ignored", "not ")), (key, text)
    for key in HONOURED:
        where, _, name = key.partition(".")
        assert name in _fields(PLACES[where]), key


def test_every_listed_template_field_becomes_a_warning() -> None:
    fields: dict[str, object] = {
        "affinity": {},
        "annotations": {"a": "b"},
        "executor": {"serviceAccountName": "x"},
        "hostAliases": [{"ip": "127.0.0.1", "hostnames": ["a"]}],
        "initContainers": [{"name": "init", "image": "alpine"}],
        "metadata": {"labels": {"a": "b"}},
        "nodeSelector": {"a": "b"},
        "podSpecPatch": "{}",
        "priorityClassName": "high",
        "schedulerName": "s",
        "securityContext": {"runAsUser": 1000},
        "serviceAccountName": "sa",
        "tolerations": [{"key": "k"}],
        "automountServiceAccountToken": True,
        "failFast": True,
    }
    template: dict[str, object] = {
        "name": "main",
        "container": {"image": "alpine", "command": ["true"]},
        **fields,
    }
    text = yaml.safe_dump(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"generateName": "all-"},
            "spec": {"entrypoint": "main", "templates": [template]},
        }
    )
    (doc,) = load_text(text)
    problems = check(doc, TemplateLibrary())
    assert all(p.severity == "warning" for p in problems), [str(p) for p in problems]
    assert sorted(p.field for p in problems) == sorted(fields)
    for problem in problems:
        assert problem.message == LOCAL_SUPPORT[f"template.{problem.field}"]


def test_public_names_are_exactly_all() -> None:
    public = {name for name in dir(workflow) if not name.startswith("_")}
    assert public - {"annotations", "expressions"} == set(workflow.__all__)


def test_the_contract_of_the_brief_is_exported() -> None:
    for name in (
        "Document",
        "load_documents",
        "load_text",
        "TemplateLibrary",
        "default_template_dirs",
        "effective_spec",
        "check",
        "check_or_raise",
        "Problem",
        "WorkflowInvalid",
        "LOCAL_SUPPORT",
        "ExpressionError",
        "references",
        "expression_references",
        "check_when",
        "parse_depends",
        "depends_from_dependencies",
    ):
        assert name in workflow.__all__, name


def test_mutexes_and_configmap_semaphores_are_honoured_database_ones_warned_of() -> None:
    text = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: sync-}
spec:
  entrypoint: main
  synchronization: {semaphores: [{configMapKeyRef: {name: c, key: k}}]}
  templates:
  - name: main
    synchronization:
      mutexes: [{name: m}]
      semaphores: [{configMapKeyRef: {name: c, key: k}}, {database: {key: d}}]
    container: {image: alpine, command: ["true"]}
"""
    (doc,) = load_text(text)
    problems = check(doc, TemplateLibrary())
    assert sorted((p.field, p.severity) for p in problems) == [
        ("synchronization.semaphores[1].database", "warning"),
    ]
