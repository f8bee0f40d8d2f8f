"""Where a template is, and small helpers every template check shares.

A :class:`Site` is a template together with its document, its field path
(``spec.templates[2]``, or a task's ``inline``) and the name problems use for
it. The helpers read models the way the checks need them (every string of a
dumped model with its field path, the template's type) and word the lists and
suggestions that messages carry.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hera.workflows import models as m

from ._documents import Document

__all__ = [
    "DURATION",
    "FIELD_NAME",
    "JSON",
    "PARAM_NAME",
    "RETRY_POLICIES",
    "Holder",
    "Site",
    "closest",
    "dump",
    "is_leaf",
    "is_tagged",
    "join",
    "listing",
    "strings",
    "template_names",
    "template_type",
    "unwrapped",
]

JSON = dict[str, Any]
Holder = m.DAGTask | m.WorkflowStep

FIELD_NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
PARAM_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
DURATION = re.compile(
    r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))*$"
)
RETRY_POLICIES = ("Always", "OnFailure", "OnError", "OnTransientError")
_TYPES = (
    "container",
    "script",
    "dag",
    "steps",
    "suspend",
    "resource",
    "http",
    "plugin",
    "data",
    "containerSet",
)
_TYPE_FIELDS = {
    "container": "container",
    "script": "script",
    "dag": "dag",
    "steps": "steps",
    "suspend": "suspend",
    "resource": "resource",
    "http": "http",
    "plugin": "plugin",
    "data": "data",
    "containerSet": "container_set",
}


@dataclass(frozen=True)
class Site:
    """A template and where it lives: its document, field path and how to name it."""

    doc: Document
    template: m.Template
    path: str  # e.g. "spec.templates[2]" (or "…tasks[0].inline")
    location: str  # e.g. "template 'main'"

    @property
    def name(self) -> str:
        return self.template.name or "(inline)"

    @property
    def key(self) -> tuple[str, int, str]:
        return (str(self.doc.source), self.doc.index, self.path)


def template_names(templates: Sequence[m.Template]) -> dict[str, int]:
    """Template name → index of its first definition."""
    names: dict[str, int] = {}
    for i, template in enumerate(templates):
        if template.name and template.name not in names:
            names[template.name] = i
    return names


def template_type(template: m.Template) -> list[str]:
    return [t for t in _TYPES if getattr(template, _TYPE_FIELDS[t]) is not None]


def is_leaf(template: m.Template) -> bool:
    return template.dag is None and template.steps is None


def dump(model: Any) -> JSON:
    data: JSON = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return data


def strings(
    data: object, path: str = "", skip: frozenset[str] = frozenset()
) -> Iterator[tuple[str, str]]:
    """Every string in ``data`` with its field path (keys in ``skip`` left out at the top)."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            if key in skip:
                continue
            yield from strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from strings(value, f"{path}[{i}]")


def join(*parts: str) -> str:
    out = ""
    for part in parts:
        if not part:
            continue
        out += part if not out or part.startswith("[") else f".{part}"
    return out


def closest(name: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def listing(names: Sequence[str] | set[str] | frozenset[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def is_tagged(text: str) -> bool:
    return "{{" in text


def unwrapped(message: str) -> str:
    """An ExpressionError's text on one line (its caret drawing follows on later lines)."""
    return message.replace("\n", "\n    ")
