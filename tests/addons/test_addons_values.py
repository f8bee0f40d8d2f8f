"""Values handling: Helm-style merging, image tags, registry overrides, plain data only."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clusterforge.addons._values import check_values, image_tag, merge_values, overrides
from clusterforge.errors import InvalidInput

_keys = st.sampled_from(["a", "b", "c", "global", "registry"])
_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
_values = st.recursive(
    _scalars, lambda inner: st.dictionaries(_keys, inner, max_size=3), max_leaves=10
)
_maps = st.dictionaries(_keys, _values, max_size=4)


def _helm_merge(base: Any, over: Any) -> Any:
    """Reference: what Helm does with one values file over another."""
    if not isinstance(over, dict) or not isinstance(base, dict):
        return over
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _helm_merge(base.get(key), value) if key in base else value
    return out


@given(_maps, _maps)
def test_merge_matches_helm_semantics(base: dict[str, Any], over: dict[str, Any]) -> None:
    assert merge_values(base, over) == _helm_merge(base, over)


@given(_maps, _maps)
def test_merge_never_changes_its_inputs(base: dict[str, Any], over: dict[str, Any]) -> None:
    before = (repr(base), repr(over))
    merge_values(base, over)
    assert (repr(base), repr(over)) == before


@given(_maps)
def test_merging_nothing_is_identity(base: dict[str, Any]) -> None:
    assert merge_values(base, {}) == base


@pytest.mark.parametrize(
    ("version", "app_version", "tag"),
    [
        ("1.11.3", "v1.11.3", "v1.11.3"),
        ("v1.11.3", "v1.11.3", "v1.11.3"),
        ("3.2.2", "3.2.2", "3.2.2"),
        ("v3.2.2", "3.2.2", "3.2.2"),
        ("latest", "v1.0.0", "latest"),
        ("1.2.3-rc.1", "v1.0.0", "v1.2.3-rc.1"),
    ],
)
def test_image_tags_follow_the_charts_convention(version: str, app_version: str, tag: str) -> None:
    assert image_tag(version, app_version=app_version, what="x") == tag


@pytest.mark.parametrize("version", ["", "1.2 3", "../x", ";rm", "a" * 129])
def test_a_version_that_is_no_tag_is_invalid(version: str) -> None:
    with pytest.raises(InvalidInput, match="not an image tag"):
        image_tag(version, app_version="v1", what="add-on 'x'")


@pytest.mark.parametrize(
    "registry", ["mirror.invalid", "mirror.invalid:5000", "mirror.invalid:5000/k8s/", "localhost/a"]
)
def test_registry_override_sets_global_registry(registry: str) -> None:
    assert overrides(registry=registry, tag=None, what="x") == {
        "global": {"registry": registry.rstrip("/")}
    }


@pytest.mark.parametrize("registry", ["", "https://mirror", "a b", "mirror;rm -rf /", "-x"])
def test_a_registry_that_is_not_one_is_invalid(registry: str) -> None:
    with pytest.raises(InvalidInput, match="not an image registry"):
        overrides(registry=registry, tag=None, what="x")


def test_values_must_be_plain_data() -> None:
    assert check_values(None, what="x") == {}
    with pytest.raises(InvalidInput, match="mapping"):
        check_values(["a"], what="x")
    with pytest.raises(InvalidInput, match=r"values\.a\[1\] is a set"):
        check_values({"a": [1, {2}]}, what="x")
    with pytest.raises(InvalidInput, match=r"key 1 .* must be a string"):
        check_values({1: "a"}, what="x")
    with pytest.raises(InvalidInput, match="finite"):
        check_values({"a": math.nan}, what="x")


def test_checked_values_are_a_copy() -> None:
    given_values = {"a": {"b": [1]}}
    copied = check_values(given_values, what="x")
    copied["a"]["b"].append(2)
    assert given_values == {"a": {"b": [1]}}
