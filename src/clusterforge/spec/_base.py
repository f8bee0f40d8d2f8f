"""The model base every spec section shares, and the one way validators complain.

A cluster spec is written by people in YAML and by programs in JSON, so the
wire format is camelCase (``nodeGroups``, ``kubernetesVersion``) while Python
code reads snake_case attributes (``spec.node_groups``). Every section forbids
unknown fields — a misspelt key is far more often a mistake than an extension —
and is strict: YAML turns ``yes`` into ``True`` and ``1.30`` into ``1.3``, and
silently coercing those back would hide the mistake rather than report it.

Validators raise :func:`problem`, a pydantic custom error whose template is a
bare placeholder: the message text (which may quote user input containing
braces) is substituted once and never re-read as a template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

#: The ``type`` of every error our own validators raise (``SpecError`` keys on it).
PROBLEM = "clusterforge_spec"


class SpecModel(BaseModel):
    """Base of every spec section: camelCase on the wire, strict, closed."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
    )


def problem(message: str) -> PydanticCustomError:
    """An error to raise from a validator; ``message`` is shown verbatim."""
    return PydanticCustomError(PROBLEM, "{message}", {"message": message})


def show(value: object, limit: int = 60) -> str:
    """A one-line, bounded rendering of user input for messages (repr quoting)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def listing(items: Sequence[str]) -> str:
    """``a, b, c`` — how messages list what is allowed."""
    return ", ".join(items)


@dataclass(frozen=True, eq=False)  # identity hash: typing hashes Annotated metadata
class JsonSchemaHint:
    """Annotation metadata that adds keywords (pattern, maxLength…) to a field's schema.

    Our validators produce their own messages, so constraints are enforced in
    Python and only *described* to editors through the JSON Schema.
    """

    keywords: dict[str, Any]

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        result = handler(schema)
        result.update(self.keywords)
        return result


def regex_check(
    pattern: str, complaint: Callable[[str], str], *, max_length: int | None = None
) -> Callable[[str], str]:
    """A validator accepting strings that fully match ``pattern`` (and fit ``max_length``)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if (max_length is not None and len(value) > max_length) or not compiled.fullmatch(value):
            raise problem(complaint(value))
        return value

    return check


Loc = tuple[str | int, ...]


def raise_problems(title: str, problems: Sequence[tuple[Loc, str]]) -> None:
    """Raise every ``(location, message)`` at once, locations relative to the validated model.

    Used by cross-field checks so that a spec with three inconsistencies
    reports three lines, each at its own field path.
    """
    if not problems:
        return
    from pydantic_core import InitErrorDetails, ValidationError

    details = [
        InitErrorDetails(type=problem(message), loc=loc, input=None) for loc, message in problems
    ]
    raise ValidationError.from_exception_data(title, details)
