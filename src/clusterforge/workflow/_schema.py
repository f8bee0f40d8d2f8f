"""Reading raw YAML data against Hera's generated models, the way Argo reads JSON.

Hera's models are the schema (they match Argo v4.0.5's JSON schema; Argo
v3.7's spellings are rewritten as v4's first, by ``_argo_versions``); this
module only bridges three gaps between pydantic's behaviour and Argo's:

* **Unknown fields.** The models ignore keys they do not know, so a typo
  (``dependancies:``) or an unknown template type would vanish silently.
  Argo's strict decoding rejects them; :func:`inspect` finds them by walking
  the data alongside the model's fields (by their JSON names, so a snake_case
  ``retry_strategy:`` that pydantic would accept is flagged too).
* **Loose strings.** Argo's ``AnyString`` (parameter ``value``, ``default``,
  ``enum`` items, ``valueFrom.default``) and Kubernetes quantities accept a
  number or boolean and keep its text; the models want a string, so those
  scalars are turned into Argo's text first (``3`` → ``"3"``, ``true`` →
  ``"true"``).
* **Error text.** A pydantic error location such as
  ``('spec', 'templates', 0, 'retryStrategy', 'limit', 'str')`` becomes
  ``spec.templates[0].retryStrategy.limit: expected an integer or string, got
  a list`` — the union branch names dropped, the expectation read from the
  field's type.
"""

from __future__ import annotations

import difflib
import functools
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hera.workflows import models as m
from pydantic import BaseModel, RootModel
from pydantic_core import ErrorDetails

from clusterforge.workflow._argo_versions import upgrade

__all__ = ["TypeIssue", "UnknownField", "inspect", "translate_errors"]

Path = tuple[str | int, ...]

# Argo fields decoded as AnyString (a JSON string, number or boolean, kept as text).
_ANY_STRING: Mapping[type[BaseModel], frozenset[str]] = {
    m.Parameter: frozenset({"value", "default"}),
    m.ValueFrom: frozenset({"default"}),
}
_ANY_STRING_LISTS: Mapping[type[BaseModel], frozenset[str]] = {m.Parameter: frozenset({"enum"})}


@dataclass(frozen=True)
class UnknownField:
    """A key the model does not define: where, and which keys it does define."""

    path: Path
    key: str
    allowed: tuple[str, ...]

    def suggestion(self) -> str | None:
        close = difflib.get_close_matches(self.key, self.allowed, n=1, cutoff=0.6)
        snake = self.key.replace("_", "").lower()
        for name in self.allowed:
            if name.lower() == snake:
                return name
        return close[0] if close else None


@dataclass(frozen=True)
class TypeIssue:
    """A value of the wrong type (or a missing required field), in words."""

    path: Path
    message: str
    hint: str = ""


# -- type helpers ------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → ``X``; ``Annotated[X, …]`` → ``X``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_root(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, RootModel)


@functools.cache
def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """JSON name → annotation, for every field of ``model``."""
    return {(info.alias or name): info.annotation for name, info in model.model_fields.items()}


def _root_annotation(model: type[BaseModel]) -> Any:
    return _unwrap(model.model_fields["root"].annotation)


# -- inspect: unknown fields and Argo's loose strings -------------------------------


def inspect(data: object, model: type[BaseModel]) -> tuple[object, list[UnknownField]]:
    """``data`` with Argo's loose strings normalised, and every unknown field in it."""
    unknown: list[UnknownField] = []
    return _walk(data, model, (), unknown), unknown


def _walk(data: object, annotation: Any, path: Path, unknown: list[UnknownField]) -> object:
    annotation = _unwrap(annotation)
    if _is_root(annotation):
        return _walk(data, _root_annotation(annotation), path, unknown)
    if _is_model(annotation):
        if not isinstance(data, dict):
            return data
        data = upgrade(annotation, data)
        fields = _fields(annotation)
        out: dict[object, object] = {}
        for key, value in data.items():
            name = str(key)
            if name not in fields:
                unknown.append(UnknownField(path, name, tuple(sorted(fields))))
                out[key] = value
                continue
            if name in _ANY_STRING.get(annotation, ()):
                value = _argo_text(value)
            elif name in _ANY_STRING_LISTS.get(annotation, ()) and isinstance(value, list):
                value = [_argo_text(item) for item in value]
            out[key] = _walk(value, fields[name], (*path, name), unknown)
        return out
    origin = typing.get_origin(annotation)
    if origin is list and isinstance(data, list):
        (item,) = typing.get_args(annotation) or (Any,)
        return [_walk(value, item, (*path, i), unknown) for i, value in enumerate(data)]
    if origin is dict and isinstance(data, dict):
        args = typing.get_args(annotation)
        item = args[1] if len(args) == 2 else Any
        if _unwrap(item) is m.Quantity:
            return {k: _argo_text(v) for k, v in data.items()}
        return {k: _walk(v, item, (*path, str(k)), unknown) for k, v in data.items()}
    if annotation is m.Quantity:
        return _argo_text(data)
    return data


def _argo_text(value: object) -> object:
    """How Argo's AnyString keeps a JSON scalar: its text (other values unchanged)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return value


# -- translate pydantic errors ----------------------------------------------------


def translate_errors(errors: list[ErrorDetails], model: type[BaseModel]) -> list[TypeIssue]:
    """Pydantic errors as one readable issue per field path (union branches merged)."""
    issues: dict[Path, TypeIssue] = {}
    for error in errors:
        path, annotation = _resolve(error["loc"], model)
        if path in issues:
            continue
        issues[path] = TypeIssue(path, _message(error, annotation), _hint(error, annotation))
    return list(issues.values())


def _resolve(loc: tuple[int | str, ...], model: type[BaseModel]) -> tuple[Path, Any]:
    """The data path of ``loc`` (union branch tags dropped) and the annotation there."""
    annotation: Any = model
    path: list[str | int] = []
    for part in loc:
        annotation = _unwrap(annotation)
        while _is_root(annotation):
            annotation = _root_annotation(annotation)
        if _is_model(annotation):
            fields = _fields(annotation)
            if isinstance(part, str) and part in fields:
                path.append(part)
                annotation = fields[part]
                continue
            by_name = annotation.model_fields.get(str(part))
            if by_name is not None:
                path.append(by_name.alias or str(part))
                annotation = by_name.annotation
                continue
            break
        origin = typing.get_origin(annotation)
        if origin is list and isinstance(part, int):
            path.append(part)
            annotation = (typing.get_args(annotation) or (Any,))[0]
            continue
        if origin is dict:
            path.append(str(part))
            args = typing.get_args(annotation)
            annotation = args[1] if len(args) == 2 else Any
            continue
        break  # a union branch tag ('str', 'int', a class name): the path ends here
    return tuple(path), annotation


def _message(error: ErrorDetails, annotation: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind in ("literal_error", "enum"):
        return str(error["msg"]).replace("Input should be", "expected")
    if kind.endswith(("_type", "_parsing", "_from_float")) or kind in ("model_attributes_type",):
        return f"expected {_expected(annotation)}, got {_describe(error['input'])}"
    return f"{error['msg']} (got {_describe(error['input'])})"


def _hint(error: ErrorDetails, annotation: Any) -> str:
    if error["type"] == "missing":
        return "add it"
    expected, value = _expected(annotation), error["input"]
    if isinstance(value, str) and expected in ("an integer", "a number", "true or false"):
        return "write it without quotes"
    if isinstance(value, (int, float, bool)) and expected == "a string":
        return "put it in quotes"
    if expected == "a list":
        return "write a list, e.g. [a, b] or one '- item' per line"
    if expected == "a mapping":
        return "write a mapping of 'key: value' lines"
    return f"give {expected} here"


def _expected(annotation: Any) -> str:
    annotation = _unwrap(annotation)
    if annotation is m.IntOrString:
        return "an integer or string"
    if _is_root(annotation):
        return _expected(_root_annotation(annotation))
    if _is_model(annotation):
        return "a mapping"
    origin = typing.get_origin(annotation)
    if origin is list:
        return "a list"
    if origin is dict:
        return "a mapping"
    if origin in (typing.Union, types.UnionType):
        kinds = {a for a in typing.get_args(annotation) if a is not type(None)}
        if kinds == {str, int}:
            return "an integer or string"
        members = [_expected(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(dict.fromkeys(members))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
    }.get(annotation, "a value of another type")


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f"the string {shown!r}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value:g}"
    return type(value).__name__
