"""The pure rules of resource templates: Argo's conditions (Kubernetes' label-selector
grammar over JSON paths), kubectl's argument lists, and jqFilter's output format.

The expected values are what Kubernetes' ``labels.Parse``/``Requirement.Matches``
(k8s.io/apimachinery selector.go) and Argo's ``getKubectlArguments``/``jqFilter``
(workflow/executor/resource.go, v3.7.18) give for the same input.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clusterforge.engine.local.kubectl import action_args, jq_filter, names_namespace, transient
from clusterforge.workflow import ConditionError, parse_condition
from clusterforge.workflow._conditions import lookup

JOB = {
    "kind": "Job",
    "metadata": {"name": "rand", "labels": {"app": "web"}},
    "status": {"succeeded": 3, "failed": 0, "phase": "Failed", "ratio": 0.5, "ok": True},
    "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("status.succeeded > 2", True),
        ("status.succeeded > 3", False),
        ("status.failed < 1", True),
        ("status.phase == Failed", True),
        ("status.phase = Failed", True),
        ("status.phase != Failed", False),
        ("status.phase in (Failed, Error)", True),
        ("status.phase notin (Failed,Error)", False),
        ("status.missing notin (x)", True),  # absent: notin and != hold
        ("status.missing != x", True),
        ("status.missing == x", False),
        ("status.missing > 1", False),
        ("status.phase > 1", False),  # not an integer: no match
        ("status.succeeded", True),
        ("!status.succeeded", False),
        ("!status.missing", True),
        ("status.ok == true", True),
        ("status.ratio == 0.5", True),
        ("spec.containers.1.name == b", True),
        ("spec.containers.2.name == b", False),
        ("metadata.labels.app == web, status.succeeded > 2", True),
        ("metadata.labels.app == web, status.succeeded > 5", False),
        ("", True),  # no requirement: all (none) hold
    ],
)
def test_conditions_match_as_kubernetes_selectors(condition: str, expected: bool) -> None:
    assert all(req.matches(JOB) for req in parse_condition(condition)) is expected


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        ("status.phase == Succeeded && x", "found '&&'"),
        ("status.succeeded > two", "the value must be an integer"),
        ("status.phase in Failed", "expected: '('"),
        ("status.phase in (Failed", "expected: ',' or ')'"),
        ("status..phase- == x", "a key is a path"),
        ("status.phase == 'Failed'", "a value is empty or"),
        ("== x", "expected: !, identifier, or 'end of string'"),
        ("status.phase ~ x", "expected: in, notin, =, ==, !=, gt, lt"),
        ("a == b,", "expected: identifier after ','"),
    ],
)
def test_conditions_kubernetes_refuses_are_refused(condition: str, reason: str) -> None:
    with pytest.raises(ConditionError, match=re.escape(reason)):
        parse_condition(condition)


def test_requirements_print_as_go_does_in_argos_messages() -> None:
    printed = [
        str(r) for r in parse_condition("status.phase in (Failed, Error), !x, y, z == 1, w>2")
    ]
    # sorted by key, as Go's ByKey
    assert printed == ["status.phase in (Error,Failed)", "w>2", "!x", "y", "z==1"]


@given(st.integers(min_value=-(10**12), max_value=10**12), st.integers(0, 1000))
def test_greater_and_less_compare_integers(have: int, want: int) -> None:
    doc = {"n": have}
    assert parse_condition(f"n > {want}")[0].matches(doc) is (have > want)
    assert parse_condition(f"n < {want}")[0].matches(doc) is (have < want)


def test_lookup_gives_gjson_text() -> None:
    assert lookup(JOB, "status.ratio") == (True, "0.5")
    assert lookup({"n": 1e21}, "n") == (True, "1000000000000000000000")
    assert lookup({"n": None}, "n") == (True, "")
    assert lookup(JOB, "spec.containers.0") == (True, '{"name":"a"}')
    assert lookup(JOB, "nope.deeper") == (False, "")


M = Path("/run/manifest.yaml")


@pytest.mark.parametrize(
    ("action", "text", "flags", "strategy", "doc", "expected"),
    [
        ("create", "x", [], None, {"kind": "Pod"}, ["create", "-f", str(M), "-o", "json"]),
        (
            "delete",
            "",
            ["configmap", "--selector", "a=b"],
            None,
            None,
            ["delete", "--ignore-not-found", "configmap", "--selector", "a=b", "-o", "name"],
        ),
        (
            "patch",
            "x",
            [],
            None,
            {"kind": "Pod"},
            ["patch", "--type", "strategic", "--patch-file", str(M), "-f", str(M), "-o", "json"],
        ),
        (
            "patch",
            "x",
            ["pod", "p"],
            "json",
            [{"op": "add"}],
            ["patch", "--type", "json", "--patch-file", str(M), "pod", "p", "-o", "json"],
        ),
        (
            "patch",
            "x",
            ["pod", "p"],
            "merge",
            {"metadata": {}},  # no kind, with flags: the flags name the object
            ["patch", "--type", "merge", "--patch-file", str(M), "pod", "p", "-o", "json"],
        ),
    ],
)
def test_kubectl_arguments_are_argos(
    action: str, text: str, flags: list[str], strategy: str | None, doc: object, expected: list[str]
) -> None:
    assert action_args(action, M, text, flags, strategy, doc) == expected


def test_no_manifest_and_no_flags_is_argos_error() -> None:
    with pytest.raises(ValueError, match="Must provide at least one of flags or manifest"):
        action_args("get", M, "", [], None, None)


def test_a_namespace_given_anywhere_is_not_overridden() -> None:
    assert names_namespace(["get"], {"metadata": {"namespace": "x"}})
    assert names_namespace(["get", "-n", "x"], None)
    assert names_namespace(["get", "--namespace=x"], None)
    assert not names_namespace(["get", "pods"], {"metadata": {"name": "x"}})


def test_jq_output_is_gos() -> None:
    doc = '{"b": "<x>", "a": [1, 2.5, true], "s": "text"}'
    assert jq_filter(doc, ".s") == "text"
    assert jq_filter(doc, ".") == '{"a":[1,2.5,true],"b":"\\u003cx\\u003e","s":"text"}'
    assert jq_filter(doc, ".a[]") == "1\n2.5\ntrue"
    with pytest.raises(ValueError, match=re.escape("jqFilter '.a | nope'")):
        jq_filter(doc, ".a | nope")


def test_transient_errors_are_argos() -> None:
    assert transient(
        "Unable to connect to the server: dial tcp 127.0.0.1:1: connect: connection refused"
    )
    assert transient("Error from server (ServiceUnavailable): the server is currently unable")
    assert transient("etcdserver: request timed out")
    assert not transient('Error from server (NotFound): configmaps "x" not found')
    assert not transient("Error from server (Forbidden): configmaps is forbidden")
