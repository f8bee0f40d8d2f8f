"""spec.templateDefaults merged as Argo's strategic merge patch does; spec.retryStrategy."""

from __future__ import annotations

import copy

from clusterforge.engine.local.template_defaults import template_defaults, with_defaults

DEFAULTS = {
    "activeDeadlineSeconds": 30,
    "container": {
        "command": ["sh", "-c", "echo default"],
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "volumeMounts": [{"name": "v", "mountPath": "/data", "readOnly": True}],
    },
    "sidecars": [{"name": "side", "command": ["sleep", "1"], "env": [{"name": "S", "value": "x"}]}],
    "steps": [[{"name": "never", "template": "x"}]],
}


def test_the_templates_own_fields_win_and_keyed_lists_merge_by_key() -> None:
    template = {
        "name": "t",
        "container": {
            "command": ["sh", "-c", "echo mine"],
            "env": [{"name": "B", "value": "mine"}, {"name": "C", "value": "3"}],
            "volumeMounts": [{"name": "v", "mountPath": "/data", "readOnly": False}],
        },
        "sidecars": [{"name": "side", "env": [{"name": "T", "value": "y"}]}],
    }
    before = copy.deepcopy(template)
    merged = with_defaults(template, DEFAULTS, None)
    assert template == before, "the template itself is never changed"
    container = merged["container"]
    assert container["command"] == ["sh", "-c", "echo mine"], "an unkeyed list is replaced whole"
    assert container["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "mine"},
        {"name": "C", "value": "3"},
    ]
    assert container["volumeMounts"] == [{"name": "v", "mountPath": "/data", "readOnly": False}]
    assert merged["sidecars"] == [
        {
            "name": "side",
            "command": ["sleep", "1"],
            "env": [{"name": "S", "value": "x"}, {"name": "T", "value": "y"}],
        }
    ]
    assert merged["activeDeadlineSeconds"] == 30
    assert "steps" not in merged, "defaults of another template type are dropped"


def test_defaults_of_another_type_are_dropped() -> None:
    merged = with_defaults({"name": "s", "script": {"source": "true"}}, DEFAULTS, None)
    assert "container" not in merged
    assert "steps" not in merged
    assert merged["script"] == {"source": "true"}
    assert merged["name"] == "s"


def test_the_workflows_retry_strategy_fills_only_templates_without_one() -> None:
    retry = {"limit": "4"}
    assert with_defaults({"name": "a", "suspend": {}}, None, retry)["retryStrategy"] == retry
    own = {"name": "b", "suspend": {}, "retryStrategy": {"limit": "1"}}
    assert with_defaults(own, None, retry)["retryStrategy"] == {"limit": "1"}
    from_defaults = with_defaults(
        {"name": "c", "suspend": {}}, {"retryStrategy": {"limit": "2"}}, retry
    )
    assert from_defaults["retryStrategy"] == {"limit": "2"}, "templateDefaults come first"


def test_no_defaults_leave_the_template_as_it_is() -> None:
    template = {"name": "t", "container": {"command": ["true"]}}
    assert with_defaults(template, *template_defaults({"templates": [template]})) is template
    assert template_defaults({"templateDefaults": {}, "retryStrategy": None}) == (None, None)
