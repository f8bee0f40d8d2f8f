"""workflow.* variables from a workflow's metadata and spec, as Argo's controller sets them."""

from __future__ import annotations

import calendar

from clusterforge.engine.local.workflow_globals import creation_vars, duration, metadata_vars

# 2026-03-07T09:05:04Z, a Saturday: day, month, hour, minute and second all differ.
CREATED = calendar.timegm((2026, 3, 7, 9, 5, 4, 0, 0, 0)) + 0.75


def test_creation_timestamp_forms_follow_argos_strftime_characters() -> None:
    values = creation_vars(CREATED)
    prefix = "workflow.creationTimestamp"
    assert values[prefix] == values[f"{prefix}.RFC3339"] == "2026-03-07T09:05:04Z"
    assert values[f"{prefix}.s"] == str(int(CREATED))
    got = {k.removeprefix(prefix + "."): v for k, v in values.items() if k.count(".") == 2}
    assert got == {
        "RFC3339": "2026-03-07T09:05:04Z",
        "s": str(int(CREATED)),
        "B": "March",
        "b": "Mar",
        "m": "03",
        "A": "Saturday",
        "a": "Sat",
        "d": "07",
        "H": "09",
        "I": "09",
        "M": "05",
        "S": "04",
        "Y": "2026",
        "y": "26",
        "p": "AM",
        "Z": "UTC",
        "z": "+0000",
        "L": ".000",
    }


def test_metadata_maps_are_go_json_and_workflow_metadata_adds_names() -> None:
    spec = {"workflowMetadata": {"labels": {"tier": "gold"}, "annotations": {"n": "1"}}}
    values = metadata_vars({"annotations": {"b": "<x>", "a": "1"}}, {"team": "p"}, spec)
    assert values["workflow.annotations.json"] == '{"a":"1","b":"\\u003cx\\u003e"}'
    assert values["workflow.annotations"] == values["workflow.annotations.json"]
    assert values["workflow.labels.json"] == '{"team":"p"}'
    assert values["workflow.labels.tier"] == "gold"
    assert values["workflow.annotations.n"] == "1"
    assert values["workflow.serviceAccountName"] == ""
    assert "workflow.priority" not in values
    assert "workflow.scheduledTime" not in values


def test_absent_maps_are_null_and_optional_values_appear_when_set() -> None:
    annotations = {"workflows.argoproj.io/scheduled-time": "2026-03-07T09:00:00Z"}
    spec = {"priority": 5, "serviceAccountName": "sa"}
    values = metadata_vars({"annotations": annotations}, {}, spec)
    assert values["workflow.labels.json"] == "null"
    assert values["workflow.priority"] == "5"
    assert values["workflow.serviceAccountName"] == "sa"
    assert values["workflow.scheduledTime"] == "2026-03-07T09:00:00Z"


def test_duration_is_go_percent_f_seconds_since_the_start() -> None:
    assert duration(None) == "0.000000"
    assert duration(100.0, now=102.5) == "2.500000"
    assert duration(100.0, now=99.0) == "0.000000"
