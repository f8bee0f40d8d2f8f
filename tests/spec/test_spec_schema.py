"""The JSON Schema: valid draft 2020-12, described everywhere, agrees with the models."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from spec_helpers import EXAMPLES, aws_base, base
from spec_strategies import spec_documents

from clusterforge.spec import json_schema


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_declares_draft_2020_12() -> None:
    assert json_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _properties(node: Any, where: str = "#") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            found.append((f"{where}/properties/{name}", prop))
        for key, value in node.items():
            found.extend(_properties(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_properties(value, f"{where}/{index}"))
    return found


def test_every_field_has_a_description() -> None:
    props = _properties(json_schema())
    assert len(props) > 50
    missing = [where for where, prop in props if not prop.get("description")]
    assert missing == []


def test_every_section_has_a_description() -> None:
    missing = [name for name, d in json_schema()["$defs"].items() if not d.get("description")]
    assert missing == []


def test_optional_fields_do_not_offer_null() -> None:
    assert '"null"' not in json.dumps(json_schema())


@pytest.mark.parametrize("name", ["dev-cluster", "large-cluster", "aws-cluster"])
def test_accepts_the_examples(validator: jsonschema.Draft202012Validator, name: str) -> None:
    doc = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    assert list(validator.iter_errors(doc)) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_documents())
def test_accepts_what_the_models_accept(doc: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    assert [e.message for e in validator.iter_errors(doc)] == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("metadata", "name"), "Bad_Name"),
        (("spec", "provider", "type"), "gcp"),
        (("spec", "nodeGroups", 0, "instanceType"), "m9.huge"),
        (("spec", "kubernetesVersion"), "latest"),
        (("spec", "addons", "coredns"), "latest"),
        (("spec", "extra"), 1),
    ],
)
def test_rejects_what_the_models_reject(
    validator: jsonschema.Draft202012Validator, path: tuple[Any, ...], value: Any
) -> None:
    doc = base()
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert list(validator.iter_errors(doc))


def test_aws_base_is_accepted(validator: jsonschema.Draft202012Validator) -> None:
    assert list(validator.iter_errors(aws_base())) == []


@pytest.mark.parametrize(
    "where",
    [("metadata", "labels"), ("spec", "addons")],
)
def test_map_keys_are_constrained(validator: jsonschema.Draft202012Validator, where: Any) -> None:
    doc = base()
    section, field = where
    doc[section].setdefault(field, {})["Bad Key!"] = "none"
    assert list(validator.iter_errors(doc))
