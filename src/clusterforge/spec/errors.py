"""Turning validation failures into one message a person can act on.

pydantic knows *what* failed; people need *where* and *what to write instead*.
:class:`SpecError` lists every problem on its own line as
``<source>: <field path>: <message>``, the path in the style of Kubernetes and
Argo (``spec.nodeGroups[1].instanceType``, ``metadata.labels["a/b"]``), the
message naming what is allowed — and none of pydantic's boilerplate (error
codes, documentation URLs, ``Input should be …``). User input is quoted with
``repr`` and cut short, so a hostile value cannot break the message into
misleading lines.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from clusterforge.errors import InvalidInput
from clusterforge.spec._base import PROBLEM, listing, show

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_VALIDATOR_LOC = re.compile(r"function-(after|before|wrap|plain)\[")


class SpecError(InvalidInput):
    """A cluster spec that cannot be used; ``problems`` holds ``(field path, message)`` pairs."""

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        self.source = source
        self.problems: list[tuple[str, str]] = list(problems)
        lines = [
            f"{source}: {path}: {msg}" if path else f"{source}: {msg}" for path, msg in problems
        ]
        super().__init__("\n".join(lines))

    @classmethod
    def from_validation_error(
        cls, err: ValidationError, *, source: str, model: type[BaseModel]
    ) -> SpecError:
        """The problems in ``err`` (raised while validating ``model``), made readable."""
        seen: set[tuple[str, str]] = set()
        problems: list[tuple[str, str]] = []
        for detail in err.errors(include_url=False):
            item = _explain(detail, model)
            if item not in seen:
                seen.add(item)
                problems.append(item)
        return cls(source, problems)


def field_path(loc: Sequence[str | int]) -> str:
    """``("spec", "nodeGroups", 1, "name")`` → ``spec.nodeGroups[1].name``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def _explain(detail: ErrorDetails, model: type[BaseModel]) -> tuple[str, str]:
    raw_loc = tuple(detail["loc"])
    loc = _clean_loc(raw_loc)
    kind, ctx, value = detail["type"], detail.get("ctx") or {}, detail.get("input")
    if kind == PROBLEM:
        return field_path(loc), str(ctx["message"])
    if kind == "missing":
        return field_path(loc), "required field is missing"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, raw_loc[:-1])
        hint = f"; allowed here: {listing(allowed)}" if allowed else ""
        return field_path(loc), f"unknown field {str(loc[-1])!r}{hint}"
    if kind == "union_tag_invalid":
        return (
            field_path((*loc, _unquote(ctx.get("discriminator", "type")))),
            f"{show(ctx.get('tag'))} is not allowed; "
            f"allowed: {_unquote_list(ctx.get('expected_tags'))}",
        )
    if kind == "union_tag_not_found":
        return (
            field_path((*loc, _unquote(ctx.get("discriminator", "type")))),
            "required field is missing",
        )
    return field_path(loc), _message(kind, ctx, value, detail["msg"])


def _message(kind: str, ctx: dict[str, Any], value: Any, msg: str) -> str:
    if kind == "literal_error":
        return f"{show(value)} is not allowed; allowed: {_unquote_list(ctx.get('expected'))}"
    if kind == "string_type":
        return f"{_describe(value)}; write a string (quote it in YAML)"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{_describe(value)}; write a whole number"
    if kind == "list_type":
        return f"{_describe(value)}; write a list"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{_describe(value)}; write a mapping (key: value)"
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return f"{show(value)} is too small; the least allowed is {bound}"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        return f"{show(value)} is too large; the most allowed is {bound}"
    if kind == "too_short":
        return f"needs at least {_entries(ctx.get('min_length'))}; has {ctx.get('actual_length')}"
    if kind == "too_long":
        # pydantic leaves actual_length out for mappings (it stops counting at the limit)
        actual = ctx.get("actual_length")
        has = f"has {actual}" if actual is not None else "has more"
        if actual is None and hasattr(value, "__len__"):
            has = f"has {len(value)}"
        return f"allows at most {_entries(ctx.get('max_length'))}; {has}"
    text = msg[0].lower() + msg[1:] if msg else kind
    text = text.replace("input should be", "must be")
    return f"{text}; got {show(value)}"


def _entries(count: object) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"


def _describe(value: Any) -> str:
    """What a wrongly typed YAML value is, with the usual YAML surprise explained."""
    if value is None:
        return "is empty (null)"
    if isinstance(value, bool):
        return f"{value!r} is a boolean (YAML reads yes/no/on/off/true/false as booleans)"
    if isinstance(value, float):
        return f"{value!r} is a number (YAML reads 1.30 as the number 1.3)"
    if isinstance(value, int):
        return f"{value!r} is a number"
    if isinstance(value, str):
        return f"{show(value)} is a string"
    if isinstance(value, list):
        return "is a list"
    if isinstance(value, dict):
        return "is a mapping"
    return f"is a {type(value).__name__}"


def _clean_loc(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for index, part in enumerate(loc):
        if part == "[key]":
            continue
        if isinstance(part, str) and _VALIDATOR_LOC.match(part):
            continue
        if index > 0 and loc[index - 1] == "provider" and part in ("kwok", "aws"):
            continue  # the tag pydantic adds for a discriminated union member
        out.append(part)
    return tuple(out)


def _unquote(text: object) -> str:
    return str(text).strip("'\"")


def _unquote_list(text: object) -> str:
    return ", ".join(
        sorted(_unquote(p.strip()) for p in re.split(r",| or ", str(text)) if p.strip())
    )


def _allowed_fields(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The field names (as written in YAML) of the model found at ``loc``, if any."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [info.alias or name for name, info in current.model_fields.items()]
    return []


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _step(tp: Any, part: str | int) -> Any:
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, info in tp.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    if origin is list and isinstance(part, int):
        return typing.get_args(tp)[0]
    if origin is dict:
        return typing.get_args(tp)[1]
    if origin in (typing.Union, types.UnionType):
        for member in typing.get_args(tp):
            fields = getattr(member, "model_fields", {})
            if "type" in fields and typing.get_args(fields["type"].annotation) == (part,):
                return member
    return None
