"""Trigger parameters: a value from the events, written into the workflow.

Follows Argo Events' ``ResolveParamValue`` and ``ApplyParams``
(pkg/sensors/triggers/params.go): a source names a dependency and reads the
event data by ``dataKey`` (a gjson path) or ``dataTemplate`` (Go template over
``.Input``), or the event context by ``contextKey``/``contextTemplate``; a
template that fails falls back to the key, and the key to ``value`` (the
default). The value is written at ``dest`` — a dotted path into the workflow
(``spec.arguments.parameters.0.value``) — replacing what is there
(``overwrite``), or after (``append``) or before (``prepend``) it. With
``useRawData`` a JSON object or list is written as structure, not as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clusterforge.api.triggers._gotemplate import NO_VALUE, GoTemplate, TemplateError
from clusterforge.api.triggers._paths import MISSING, Path, PathError, gjson_string, parse_path

__all__ = ["ParameterError", "TriggerParameter", "compile_parameter", "set_path"]


class ParameterError(ValueError):
    """A parameter that cannot resolve (no value, no default) or cannot be written."""


@dataclass(frozen=True)
class TriggerParameter:
    where: str
    dependency: str
    data_key: Path | None
    data_template: GoTemplate | None
    context_key: Path | None
    context_template: GoTemplate | None
    default: str | None
    raw: bool
    dest: tuple[str, ...]
    dest_text: str
    operation: str

    def resolve(self, events: Mapping[str, Any]) -> tuple[str | None, Any]:
        """The value (as text) and, for ``useRawData``, the structure it came from."""
        event = events.get(self.dependency)
        if event is None:
            return self.default, MISSING
        if not any((self.data_key, self.data_template, self.context_key, self.context_template)):
            if self.default is not None:
                return self.default, MISSING
            return json.dumps(event.document(), separators=(",", ":")), MISSING
        use_data = self.data_key is not None or self.data_template is not None
        payload = event.data if use_data else event.context
        key = self.data_key if use_data else self.context_key
        template = self.data_template if use_data else self.context_template
        if template is not None:
            try:
                text = template.render(payload)
            except TemplateError:
                text = ""
            if text not in ("", NO_VALUE):
                return text, MISSING
        if key is not None:
            found = key.get(payload)
            if found is not MISSING:
                if isinstance(found, dict | list) or found is None:
                    return json.dumps(found, separators=(",", ":")), found
                return gjson_string(found), MISSING
        if self.default is not None:
            return self.default, MISSING
        wanted = (
            f"dataKey {self.data_key.text!r}"
            if self.data_key
            else "dataTemplate"
            if self.data_template
            else f"contextKey {self.context_key.text!r}"
            if self.context_key
            else "contextTemplate"
        )
        raise ParameterError(
            f"{self.where}: the event of {self.dependency!r} has no value for {wanted}, "
            "and the parameter has no default (src.value)"
        )

    def apply(self, resource: dict[str, Any], events: Mapping[str, Any]) -> None:
        text, structure = self.resolve(events)
        if text is None:
            return
        value: Any = text
        if self.operation in ("append", "prepend"):
            current = _get(resource, self.dest)
            if current is not MISSING:
                now = gjson_string(current)
                value = now + text if self.operation == "append" else text + now
        elif self.raw and structure is not MISSING:
            value = structure
        set_path(resource, self.dest, value, self.where)


def _get(data: Any, keys: tuple[str, ...]) -> Any:
    current = data
    for key in keys:
        if isinstance(current, dict) and key in current:
            current = current[key]
        elif isinstance(current, list) and key.isdigit() and int(key) < len(current):
            current = current[int(key)]
        else:
            return MISSING
    return current


def split_dest(text: str) -> tuple[str, ...]:
    """``a.b\\.c.0`` → ``("a", "b.c", "0")`` (sjson's path syntax, escapes included)."""
    keys: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current.append(text[i + 1])
            i += 2
            continue
        if text[i] == ".":
            keys.append("".join(current))
            current = []
        else:
            current.append(text[i])
        i += 1
    keys.append("".join(current))
    if any(k == "" for k in keys):
        raise ParameterError(f"dest {text!r} has an empty key")
    return tuple(keys)


def set_path(resource: dict[str, Any], keys: tuple[str, ...], value: Any, where: str) -> None:
    """Set ``value`` at ``keys``, creating mappings (or lists, for index keys) on the way."""
    current: Any = resource
    for position, key in enumerate(keys):
        last = position == len(keys) - 1
        following = None if last else keys[position + 1]
        fresh: Any = (
            [] if following is not None and (following.isdigit() or following == "-1") else {}
        )
        if isinstance(current, list):
            if key == "-1":
                index = len(current)
            elif key.isdigit():
                index = int(key)
            else:
                raise ParameterError(f"{where}: dest key {key!r} indexes a list; use a number")
            if index > 10_000:
                raise ParameterError(f"{where}: dest index {index} is too large")
            while len(current) <= index:
                current.append(None)
            if last:
                current[index] = value
                return
            if not isinstance(current[index], dict | list):
                current[index] = fresh
            current = current[index]
        elif isinstance(current, dict):
            if last:
                current[key] = value
                return
            if not isinstance(current.get(key), dict | list):
                current[key] = fresh
            current = current[key]
        else:
            raise ParameterError(f"{where}: dest goes through a value that is not a mapping")


def compile_parameter(
    raw: Mapping[str, Any], where: str, dependencies: set[str]
) -> TriggerParameter:
    """Compile one ``parameters[i]`` entry of an argoWorkflow trigger."""
    src = raw.get("src") or {}
    dependency = src.get("dependencyName") or ""
    if dependency not in dependencies:
        known = ", ".join(sorted(dependencies)) or "none"
        raise ParameterError(
            f"{where}.src.dependencyName: {dependency!r} is not a dependency of this sensor "
            f"(dependencies: {known})"
        )
    dest = raw.get("dest") or ""
    if not dest:
        raise ParameterError(
            f"{where}.dest: give the path to write, e.g. spec.arguments.parameters.0.value"
        )
    operation = raw.get("operation") or "overwrite"
    if operation not in ("overwrite", "append", "prepend"):
        raise ParameterError(f"{where}.operation: {operation!r}; use overwrite, append or prepend")

    def path(key: str) -> Path | None:
        text = src.get(key)
        if not text:
            return None
        try:
            return parse_path(text)
        except PathError as err:
            raise ParameterError(f"{where}.src.{key}: {err}") from None

    def template(key: str) -> GoTemplate | None:
        text = src.get(key)
        if not text:
            return None
        try:
            return GoTemplate(text)
        except TemplateError as err:
            raise ParameterError(f"{where}.src.{key}: {err}") from None

    default = src.get("value")
    return TriggerParameter(
        where=where,
        dependency=dependency,
        data_key=path("dataKey"),
        data_template=template("dataTemplate"),
        context_key=path("contextKey"),
        context_template=template("contextTemplate"),
        default=None if default is None else str(default),
        raw=bool(src.get("useRawData")),
        dest=split_dest(dest),
        dest_text=dest,
        operation=operation,
    )
