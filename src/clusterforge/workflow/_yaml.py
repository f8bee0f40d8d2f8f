"""YAML in, plain data out — with the line of every field, as Argo would read it.

Argo reads manifests with ``sigs.k8s.io/yaml``: YAML 1.1 scalars (``yes`` is a
boolean), timestamps kept as strings, and a duplicate key in a mapping is an
error. PyYAML's safe loader matches that once its timestamp resolver is
removed; duplicate keys (which PyYAML silently collapses to the last one) are
found on the node tree before it is turned into data.

While composing we also record the 1-based line of every field path
(``spec.templates[0].dag.tasks[1].depends``), so a problem found later —
in a pydantic error or a graph check — can point at the line to edit. A YAML
syntax error becomes a :class:`~clusterforge.workflow.WorkflowInvalid` naming
``file:line:column``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml

from clusterforge.safety import LimitExceeded, check_yaml

from ._problems import Problem, WorkflowInvalid

__all__ = ["RawDocument", "nearest_line", "path_text", "read_yaml"]

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_BASE: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE):  # type: ignore[misc]  # PyYAML's loaders are untyped
    """The safe loader without YAML 1.1 timestamps (Kubernetes keeps them as strings)."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def path_text(parts: Sequence[str | int]) -> str:
    """``('spec', 'templates', 0, 'name')`` → ``spec.templates[0].name``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def nearest_line(lines: Mapping[str, int], path: str, default: int) -> int:
    """The line of ``path``, or of its nearest parent that ``lines`` knows."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return default


@dataclass(frozen=True)
class RawDocument:
    """One YAML document of a file: its data, and where each field is."""

    data: object
    index: int
    line: int
    lines: Mapping[str, int] = field(default_factory=dict)
    duplicates: tuple[tuple[str, int], ...] = ()


def read_yaml(text: str, source: str) -> list[RawDocument]:
    """Every document of ``text`` (empty documents skipped); syntax errors raise."""
    try:
        check_yaml(text, source)
    except LimitExceeded as err:
        raise WorkflowInvalid.single(
            source, "", "", str(err), "split the file, or write the data out without anchors"
        ) from None
    documents: list[RawDocument] = []
    loader = _Loader(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            lines: dict[str, int] = {}
            duplicates: list[tuple[str, int]] = []
            _index_node(node, (), lines, duplicates, set())
            data = loader.construct_document(node)
            if data is not None:
                documents.append(
                    RawDocument(data, index, node.start_mark.line + 1, lines, tuple(duplicates))
                )
            index += 1
    except yaml.MarkedYAMLError as err:
        raise WorkflowInvalid([_syntax_problem(err, source)]) from None
    except yaml.YAMLError as err:  # an error without a position
        raise WorkflowInvalid.single(source, "", "", f"invalid YAML: {err}") from None
    finally:
        loader.dispose()
    return documents


def _syntax_problem(err: yaml.MarkedYAMLError, source: str) -> Problem:
    mark = err.problem_mark or err.context_mark
    reason = " ".join(part for part in (err.context, err.problem) if part) or "syntax error"
    return Problem(
        source,
        "",
        "",
        f"invalid YAML: {reason}",
        "fix the YAML syntax at this position (indentation, quotes, ':' after keys)",
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
    )


def _index_node(
    node: yaml.Node,
    path: tuple[str | int, ...],
    lines: dict[str, int],
    duplicates: list[tuple[str, int]],
    active: set[int],
) -> None:
    if id(node) in active:  # a recursive alias; its data is built (and checked) once
        return
    active.add(id(node))
    try:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = str(key_node.value)
                child = (*path, key)
                line = key_node.start_mark.line + 1
                if key in seen:
                    duplicates.append((path_text(child), line))
                seen.add(key)
                lines.setdefault(path_text(child), line)
                _index_node(value_node, child, lines, duplicates, active)
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                child = (*path, position)
                lines.setdefault(path_text(child), item.start_mark.line + 1)
                _index_node(item, child, lines, duplicates, active)
    finally:
        active.discard(id(node))
