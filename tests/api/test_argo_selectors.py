"""Kubernetes label selectors and Argo's ``fields`` filter, as the Argo Server
routes read them (no server needed)."""

from __future__ import annotations

from typing import Any

import pytest

from clusterforge.api.argo_server.selectors import LabelSelector, filter_fields
from clusterforge.errors import InvalidInput

LABELS = {"app": "web", "tier": "front", "workflows.argoproj.io/phase": "Running"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app=db", False),
        ("app", True),
        ("!app", False),
        ("!missing", True),
        ("missing!=x", True),  # absent keys pass !=, as in Kubernetes
        ("app in (db,web)", True),
        ("app notin (db,web)", False),
        ("missing notin (a)", True),
        ("app=web,tier=front", True),
        ("app=web, tier=back", False),
        ("workflows.argoproj.io/phase in (Pending,Running)", True),
    ],
)
def test_label_selector(selector: str, matches: bool) -> None:
    assert LabelSelector(selector).matches(LABELS) is matches


@pytest.mark.parametrize("selector", ["app in web", "app=we b", "a$b=c", "app in (x y)", "="])
def test_bad_selectors_name_the_field(selector: str) -> None:
    with pytest.raises(InvalidInput, match=r"listOptions\.labelSelector"):
        LabelSelector(selector)


DOC: dict[str, Any] = {
    "metadata": {"resourceVersion": "0"},
    "items": [
        {"metadata": {"name": "a", "uid": "1"}, "status": {"phase": "Running", "nodes": {"x": {}}}},
        {"metadata": {"name": "b", "uid": "2"}, "status": {"phase": "Failed"}},
    ],
}


def test_fields_keep_only_the_paths_given() -> None:
    assert filter_fields(DOC, "metadata,items.metadata.name,items.status.phase") == {
        "metadata": {"resourceVersion": "0"},
        "items": [
            {"metadata": {"name": "a"}, "status": {"phase": "Running"}},
            {"metadata": {"name": "b"}, "status": {"phase": "Failed"}},
        ],
    }


def test_fields_with_a_minus_drop_the_paths_given() -> None:
    assert filter_fields(DOC, "-items.status.nodes,items.metadata.uid") == {
        "metadata": {"resourceVersion": "0"},
        "items": [
            {"metadata": {"name": "a"}, "status": {"phase": "Running"}},
            {"metadata": {"name": "b"}, "status": {"phase": "Failed"}},
        ],
    }


def test_no_fields_is_the_whole_document() -> None:
    assert filter_fields(DOC, None) is DOC
    assert filter_fields(DOC, " ") is DOC
