"""Sensors without a server: paths, templates, filters, parameters, loading errors."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from clusterforge.api.triggers import (
    Event,
    GoTemplate,
    PathError,
    SensorError,
    SensorSet,
    TemplateError,
    compile_sensor,
    gjson_string,
    load_sensor_files,
    parse_path,
)

from .conftest import PUSH, SENSORS


def _github() -> SensorSet:
    return SensorSet(load_sensor_files([SENSORS / "github.yaml"]))


def _event(body: Any, source: str = "github", name: str = "push") -> Event:
    return Event(source, name, "id-1", body)


# -- paths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("body.repository.name", "web"),
        ("body.commits.1.id", "b"),
        ("body.commits.#", 2),
        ("body.commits.#.id", ["a", "b"]),
        ("body.repo*.owner.login", "acme"),
        ("body.head_commi?.id", "abc123"),
    ],
)
def test_gjson_paths_read_nested_values(path: str, expected: Any) -> None:
    assert parse_path(path).get({"body": PUSH}) == expected


def test_gjson_escapes_dots_in_keys() -> None:
    assert parse_path(r"body.a\.b").get({"body": {"a.b": 1, "a": {"b": 2}}}) == 1


@pytest.mark.parametrize("path", ["body.a|b", "a,b", "body.#(x==1).y", "@reverse", "[a,b]"])
def test_unsupported_gjson_syntax_is_refused(path: str) -> None:
    with pytest.raises(PathError, match="does not support"):
        parse_path(path)


def test_gjson_strings_follow_gjson() -> None:
    assert [gjson_string(v) for v in (1, 1.5, 1e21, True, None, "x", {"b": 1, "a": [1]})] == [
        "1",
        "1.5",
        "1000000000000000000000",
        "true",
        "",
        "x",
        '{"b":1,"a":[1]}',
    ]


# -- Go templates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ .Input.body.repository.name }}", "web"),
        ("{{.Input.body.repository.stars}}", "7"),
        ('{{ index .Input.body.repository "name" | upper }}', "WEB"),
        ('{{ default "dev" .Input.body.env }}', "dev"),
        ("{{ .Input.body.missing }}", "<no value>"),
        ("x {{- .Input.body.ref -}} y", "xrefs/heads/mainy"),
        ("{{ .Input.body.commits | len }}", "2"),
        ("{{ .Input.body.repository.owner | toJson }}", '{"login":"acme"}'),
        ("{{ .Input.body.repository.owner }}", "map[login:acme]"),
    ],
)
def test_templates_render_like_go(template: str, expected: str) -> None:
    assert GoTemplate(template).render({"body": PUSH}) == expected


@pytest.mark.parametrize(
    "template",
    ["{{ if .Input }}x{{ end }}", "{{ $x := 1 }}", '{{ printf "%s" .Input }}', "{{ .Input"],
)
def test_templates_outside_the_subset_are_refused(template: str) -> None:
    with pytest.raises(TemplateError):
        GoTemplate(template)


# -- filters -----------------------------------------------------------------------


def test_an_accepted_push_maps_nested_fields_onto_parameters() -> None:
    result = _github().dispatch(_event(PUSH))
    assert result.rejected == []
    [fired] = result.fired
    params = {p["name"]: p.get("value") for p in fired.workflow["spec"]["arguments"]["parameters"]}
    assert params == {"repo": "web", "sha": "ABC123", "owner": "acme", "commits": "2"}
    assert fired.workflow["metadata"]["generateName"] == "deploy-web"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"ref": "refs/heads/dev"}, "filters.data[0]: body.ref = 'refs/heads/dev' does not match"),
        ({"repository": {**PUSH["repository"], "size": 3}}, "body.repository.size = '3' is not >="),
        ({"repository": {**PUSH["repository"], "stars": 1}}, "is false (owner='acme', stars='1')"),
        ({"ref": None}, "body.ref = '' does not match"),
    ],
)
def test_each_filter_says_why_it_rejects(change: dict[str, Any], reason: str) -> None:
    body = {**copy.deepcopy(PUSH), **change}
    result = _github().dispatch(_event(body))
    assert result.fired == []
    assert len(result.rejected) == 1
    assert reason in result.rejected[0]
    assert "github-deploy" in result.rejected[0]


def test_a_missing_path_rejects() -> None:
    body = copy.deepcopy(PUSH)
    del body["repository"]["size"]
    [reason] = _github().dispatch(_event(body)).rejected
    assert "path 'body.repository.size' does not exist" in reason


def test_no_sensor_listens_to_other_events() -> None:
    result = _github().dispatch(_event(PUSH, name="pull_request"))
    assert result.listeners == 0
    assert result.fired == []


@given(st.text(max_size=40))
def test_expr_fields_are_values_never_code(login: str) -> None:
    body = copy.deepcopy(PUSH)
    body["repository"]["owner"]["login"] = login
    result = _github().dispatch(_event(body))
    assert bool(result.fired) == (login == "acme")


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6))
def test_number_filters_compare_as_numbers(size: float) -> None:
    body = copy.deepcopy(PUSH)
    body["repository"]["size"] = size
    assert bool(_github().dispatch(_event(body)).fired) == (float(size) >= 10)


def test_a_multi_dependency_sensor_waits_then_fires() -> None:
    sensors = SensorSet(load_sensor_files([SENSORS / "steps.yaml"]))
    first = sensors.dispatch(Event("pair", "left", "1", {"v": "L"}))
    assert first.fired == []
    assert first.waiting == ["sensor pair waits for right"]
    sensors.commit(first)
    second = sensors.dispatch(Event("pair", "right", "2", {"v": "R"}))
    [fired] = second.fired
    params = fired.workflow["spec"]["arguments"]["parameters"]
    assert [p["value"] for p in params] == ["L", "R"]
    sensors.commit(second)
    assert sensors.dispatch(Event("pair", "right", "3", {"v": "R"})).fired == []


def test_an_uncommitted_dispatch_leaves_no_state() -> None:
    sensors = SensorSet(load_sensor_files([SENSORS / "steps.yaml"]))
    sensors.dispatch(Event("pair", "left", "1", {"v": "L"}))  # caller rejected it: no commit
    assert sensors.dispatch(Event("pair", "right", "2", {"v": "R"})).fired == []


def test_a_parameter_without_value_or_default_rejects() -> None:
    sensors = SensorSet(load_sensor_files([SENSORS / "steps.yaml"]))
    result = sensors.dispatch(Event("test", "flaky", "1", {"other": 1}))
    assert result.fired == []
    assert "no value for dataKey 'body.marker'" in result.rejected[0]


# -- loading -----------------------------------------------------------------------


def _doc() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SENSORS / "github.yaml").read_text())
    return loaded


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["spec"].update(colour="blue"), "unknown field(s) spec.colour"),
        (
            lambda d: d["spec"]["dependencies"][0]["filters"].update(script="return true"),
            "Lua scripts are not supported",
        ),
        (
            lambda d: d["spec"]["dependencies"][0]["filters"]["data"][0].update(value=["("]),
            "bad regular expression",
        ),
        (
            lambda d: d["spec"]["dependencies"][0]["filters"]["data"][0].update(type="float"),
            "'float' is not supported",
        ),
        (
            lambda d: d["spec"]["triggers"][0]["template"]["argoWorkflow"]["parameters"][0][
                "src"
            ].update(dependencyName="nope"),
            "'nope' is not a dependency of this sensor",
        ),
        (
            lambda d: d["spec"]["triggers"][0]["template"]["argoWorkflow"].update(
                operation="resubmit"
            ),
            "only submit is supported",
        ),
        (
            lambda d: d["spec"]["triggers"][0]["template"].update(conditions="push && pull"),
            "'pull' is not a dependency",
        ),
        (
            lambda d: d["spec"]["triggers"][0]["template"]["argoWorkflow"]["source"][
                "resource"
            ].update(kind="Pod"),
            "must be an argoproj.io/v1alpha1 Workflow",
        ),
    ],
)
def test_broken_sensors_fail_at_load_naming_the_field(edit: Any, message: str) -> None:
    doc = _doc()
    edit(doc)
    with pytest.raises(SensorError, match=r"sensors/github\.yaml: sensor github-deploy") as info:
        compile_sensor(doc, "sensors/github.yaml")
    assert message in str(info.value)


def test_fields_without_local_meaning_are_warnings(tmp_path: Path) -> None:
    doc = _doc()
    doc["spec"]["eventBusName"] = "default"
    doc["spec"]["triggers"][0]["retryStrategy"] = {"steps": 3}
    sensor = compile_sensor(doc, "s.yaml")
    assert any("spec.eventBusName has no effect" in w for w in sensor.warnings)
    assert any("retryStrategy has no effect" in w for w in sensor.warnings)


def test_two_sensors_with_one_name_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(_doc()))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(_doc()))
    with pytest.raises(SensorError, match="already defined"):
        SensorSet(load_sensor_files([tmp_path]))
