"""From spec to workflow parameters: deterministic, all strings, values kept as data."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_helpers import EXAMPLES, base, problems_of, valid
from spec_strategies import HOSTILE, spec_documents

from clusterforge.spec import (
    CATALOG_ADDONS,
    ClusterSpec,
    SpecError,
    check_sentences,
    enabled_addons,
    load_spec,
    parse_spec,
    spec_document,
    to_parameters,
    user_addons,
)

# What may appear inside an Argo `when` expression: no quote, space or brace.
SAFE_WHEN_VALUE = re.compile(r"[A-Za-z0-9.+-]+")
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(spec_documents())
def test_generated_specs_validate_and_give_string_parameters(doc: dict[str, Any]) -> None:
    spec = parse_spec(doc)
    params = to_parameters(spec)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    assert list(params) == sorted(params)
    for name in CATALOG_ADDONS:
        assert SAFE_WHEN_VALUE.fullmatch(params[f"addon-{name}"])
    assert SAFE_WHEN_VALUE.fullmatch(params["cluster-name"])
    assert params["provider"] in ("kwok", "aws")
    for key in ("node-groups", "node-group-names", "addons-json", "user-addons", "spec-json"):
        json.loads(params[key])


@PROPERTY
@given(spec_documents())
def test_round_trip_through_the_canonical_document_is_exact(doc: dict[str, Any]) -> None:
    spec = parse_spec(doc)
    canonical = spec_document(spec)
    again = parse_spec(json.loads(json.dumps(canonical)))
    assert again == spec
    assert spec_document(again) == canonical
    assert to_parameters(again) == to_parameters(spec)


@PROPERTY
@given(spec_documents(), st.randoms(use_true_random=False))
def test_key_order_of_the_input_does_not_change_parameters(doc: dict[str, Any], rnd: Any) -> None:
    def shuffled(value: Any) -> Any:
        if isinstance(value, dict):
            items = list(value.items())
            rnd.shuffle(items)
            return {k: shuffled(v) for k, v in items}
        if isinstance(value, list):
            return [shuffled(v) for v in value]  # list order is meaning; keep it
        return value

    assert to_parameters(parse_spec(shuffled(doc))) == to_parameters(parse_spec(doc))


@PROPERTY
@given(spec_documents())
def test_user_addons_come_after_their_dependencies(doc: dict[str, Any]) -> None:
    spec = parse_spec(doc)
    order = [a.name for a in user_addons(spec)]
    assert json.loads(to_parameters(spec)["user-addons"]) == order
    for position, item in enumerate(user_addons(spec)):
        for dep in item.settings.depends_on:
            if dep in order:
                assert order.index(dep) < position


@pytest.mark.parametrize("name", ["dev-cluster", "large-cluster", "aws-cluster"])
def test_example_round_trip_yaml_model_parameters_is_deterministic(name: str) -> None:
    path = EXAMPLES / f"{name}.yaml"
    first = to_parameters(load_spec(path))
    second = to_parameters(load_spec(path))
    assert first == second
    assert to_parameters(parse_spec(json.loads(first["spec-json"]))) == first


def test_dev_example_parameters() -> None:
    params = to_parameters(load_spec(EXAMPLES / "dev-cluster.yaml"))
    assert params["cluster-name"] == "dev"
    assert params["provider"] == "kwok"
    assert params["kubernetes-version"] == "1.34"
    assert params["addon-coredns"] == "default"
    assert params["addon-metrics-server"] == "default"
    for off in ("cert-manager", "cluster-autoscaler", "fluent-bit", "ingress-nginx"):
        assert params[f"addon-{off}"] == "none"
    assert json.loads(params["node-groups"]) == [
        {
            "name": "general",
            "instanceType": "m5.large",
            "desired": 2,
            "min": 2,
            "max": 2,
            "labels": {},
            "taints": [],
            "zones": ["zone-a"],
        }
    ]
    assert params["node-group-names"] == '["general"]'
    assert params["validation-retries"] == "5"
    assert params["validation-interval"] == "2s"
    assert params["validation-interval-seconds"] == "2"
    assert params["user-addons"] == "[]"


def test_addon_settings_become_parameters() -> None:
    doc = base()
    doc["spec"]["addons"].update(
        {
            "fluent-bit": {"version": "3.1.0", "registry": "mirror.internal/k8s"},
            "metrics-server": "0.7.2",
            "cert-manager": "none",
            "web": {"kustomize": {"path": "/srv/web"}, "dependsOn": ["db"]},
            "db": {"chart": {"oci": "oci://r.example/charts/pg", "version": "1.2.3"}},
        }
    )
    params = to_parameters(valid(doc))
    assert params["addon-fluent-bit"] == "3.1.0"
    assert params["addon-metrics-server"] == "0.7.2"
    assert params["addon-cert-manager"] == "none"
    assert params["addon-ingress-nginx"] == "none"  # absent means not installed
    assert json.loads(params["user-addons"]) == ["db", "web"]
    addons = json.loads(params["addons-json"])
    assert addons["web"]["namespace"] == "web"  # defaults to the add-on's name
    assert addons["web"]["source"] == "kustomize"
    assert addons["db"]["chart"] == {"oci": "oci://r.example/charts/pg", "version": "1.2.3"}
    assert addons["fluent-bit"]["registry"] == "mirror.internal/k8s"
    assert "cert-manager" not in addons


def test_aws_node_groups_default_to_every_subnet_zone() -> None:
    spec = load_spec(EXAMPLES / "aws-cluster.yaml")
    assert [g.zones for g in spec.spec.node_groups] == [
        ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    ] * 2
    assert to_parameters(spec)["kubernetes-version"] == "1.33"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_strings_in_free_form_places_are_kept_verbatim(hostile: str) -> None:
    doc = base()
    doc["spec"]["addons"]["fluent-bit"] = {"values": {"output": {"host": hostile}, hostile: 1}}
    doc["spec"]["preflight"] = {"checks": [{"name": "probe", "command": ["probe", hostile]}]}
    spec = valid(doc)
    params = to_parameters(spec)
    addons = json.loads(params["addons-json"])
    assert addons["fluent-bit"]["values"] == {"output": {"host": hostile}, hostile: 1}
    stored = json.loads(params["spec-json"])
    assert stored["spec"]["preflight"]["checks"][0]["command"] == ["probe", hostile]
    assert spec.spec.preflight.checks[0].command[1] == hostile


@pytest.mark.parametrize(
    "sentence",
    [
        "there are 2 pods named 'fluent bit; rm -rf /'",
        "'status' is 'running' for pods named '$(reboot)'",
    ],
)
def test_hostile_text_inside_a_sentence_stays_data(sentence: str) -> None:
    doc = base()
    doc["spec"]["validation"] = {"checks": [sentence]}
    spec = valid(doc)
    assert json.loads(to_parameters(spec)["validation-checks"]) == [sentence]
    assert check_sentences(spec) == [("spec.validation.checks[0]", sentence)]


HOSTILE_TARGETS = [
    ("metadata.name", lambda d, v: d["metadata"].__setitem__("name", v)),
    ("metadata.labels.team", lambda d, v: d["metadata"].__setitem__("labels", {"team": v})),
    ("spec.nodeGroups[0].name", lambda d, v: d["spec"]["nodeGroups"][0].__setitem__("name", v)),
    (
        "spec.nodeGroups[0].labels.app",
        lambda d, v: d["spec"]["nodeGroups"][0].__setitem__("labels", {"app": v}),
    ),
    (
        "spec.nodeGroups[0].zones[0]",
        lambda d, v: d["spec"]["nodeGroups"][0].__setitem__("zones", [v]),
    ),
    (
        "spec.nodeGroups[0].taints[0].value",
        lambda d, v: d["spec"]["nodeGroups"][0].__setitem__(
            "taints", [{"key": "k", "value": v, "effect": "NoSchedule"}]
        ),
    ),
    (
        "spec.addons.fluent-bit.registry",
        lambda d, v: d["spec"]["addons"].__setitem__("fluent-bit", {"registry": v}),
    ),
    ("spec.addons.coredns", lambda d, v: d["spec"]["addons"].__setitem__("coredns", v)),
    (
        "spec.addons.web.namespace",
        lambda d, v: d["spec"]["addons"].__setitem__(
            "web", {"kustomize": {"path": "/w"}, "namespace": v}
        ),
    ),
    (
        "spec.validation.retries.interval",
        lambda d, v: d["spec"].__setitem__("validation", {"retries": {"interval": v}}),
    ),
]


@pytest.mark.parametrize("hostile", [h for h in HOSTILE if h not in ("", "-rf", "\\")])
@pytest.mark.parametrize(("path", "put"), HOSTILE_TARGETS, ids=[t[0] for t in HOSTILE_TARGETS])
def test_hostile_strings_in_constrained_places_are_rejected(
    path: str, put: Any, hostile: str
) -> None:
    doc = base()
    put(doc, hostile)
    message = problems_of(doc)
    assert f"spec.yaml: {path}: " in message


@PROPERTY
@given(st.text(max_size=70))
def test_any_label_value_is_rejected_or_kept_verbatim(value: str) -> None:
    doc = base()
    doc["spec"]["nodeGroups"][0]["labels"] = {"app": value}
    outcome: ClusterSpec | SpecError
    try:
        outcome = parse_spec(doc, source="spec.yaml")
    except SpecError as err:  # only our error, naming the field
        outcome = err
    if isinstance(outcome, SpecError):
        assert [path for path, _ in outcome.problems] == ["spec.nodeGroups[0].labels.app"]
        return
    spec = outcome
    groups = json.loads(to_parameters(spec)["node-groups"])
    assert groups[0]["labels"]["app"] == value


def test_accessors_list_enabled_addons_in_a_stable_order() -> None:
    spec = load_spec(EXAMPLES / "large-cluster.yaml")
    assert [a.name for a in enabled_addons(spec)] == list(CATALOG_ADDONS)
    assert all(a.catalog and a.source == "catalog" for a in enabled_addons(spec))
    paths = [path for path, _ in check_sentences(spec)]
    assert paths == [f"spec.validation.checks[{i}]" for i in range(3)]
