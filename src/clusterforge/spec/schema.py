"""The JSON Schema of the spec format, for editors and for other tools.

Generated from the models, so it cannot drift from what :func:`parse_spec`
accepts. Two adjustments make it read as a description of the *file format*
rather than of Python classes: optional fields are not offered ``null`` (leave
the field out instead), map keys are constrained with ``propertyNames``, and
fields carry descriptions instead of generated titles. Every constraint the
validators enforce in Python is mirrored as a ``pattern``, ``enum`` or bound
where JSON Schema can express it; rules across fields (a provider's versions,
dependencies between add-ons) are not.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from clusterforge.spec.cluster import ClusterSpec

DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _FileFormatSchema(GenerateJsonSchema):
    schema_dialect = DIALECT

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        # pydantic describes a constrained key as patternProperties, which lets
        # keys that miss the pattern through unchecked; say it as propertyNames.
        result = super().dict_schema(schema)
        patterns = result.pop("patternProperties", None)
        if patterns:
            ((pattern, value),) = patterns.items()
            result["propertyNames"] = {**result.get("propertyNames", {}), "pattern": pattern}
            result["additionalProperties"] = value
        return result

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        result = super().default_schema(schema)
        if result.get("default", ...) is None:
            del result["default"]
        return result


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a cluster spec file."""
    body = ClusterSpec.model_json_schema(
        by_alias=True, mode="validation", schema_generator=_FileFormatSchema
    )
    return {
        "$schema": DIALECT,
        "title": "clusterforge Cluster (clusterforge.dev/v1alpha1)",
        **{k: v for k, v in body.items() if k != "title"},
    }
