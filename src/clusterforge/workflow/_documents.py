"""Workflow documents: Argo YAML from files, directories or text, as Hera models.

A document is one ``Workflow``, ``WorkflowTemplate`` or
``ClusterWorkflowTemplate`` (``argoproj.io/v1alpha1``) parsed into Hera's
generated pydantic model — the schema is Hera's, never ours. Reading is
strict the way Argo's is: values of the wrong type are errors (no ``"3"`` for
an integer, no ``"yes"`` for a boolean), and the loader stops with one
:class:`~clusterforge.workflow.WorkflowInvalid` listing every such error in
every file, each with its file, line and field path.

Fields the model does not know are not fatal here: they are recorded on the
:class:`Document` as problems, and :func:`~clusterforge.workflow.check`
reports them together with everything else it finds, so one lint run shows
all of it.

Directories are read recursively (``*.yaml``, ``*.yml``, sorted) and keep
only Argo documents, so a folder may also hold other YAML (expectations,
values files). A file named explicitly must hold at least one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

import pydantic
from hera.workflows import models as m

from clusterforge import ids
from clusterforge.safety import LimitExceeded, read_text

from ._problems import Problem, Severity, WorkflowInvalid
from ._schema import inspect, translate_errors
from ._yaml import RawDocument, nearest_line, path_text, read_yaml

__all__ = [
    "API_VERSION",
    "KINDS",
    "AnyWorkflow",
    "Document",
    "collect_documents",
    "load_documents",
    "load_text",
]

API_VERSION = "argoproj.io/v1alpha1"
AnyWorkflow: TypeAlias = m.Workflow | m.WorkflowTemplate | m.ClusterWorkflowTemplate
_MODELS: Mapping[str, type[AnyWorkflow]] = {
    "Workflow": m.Workflow,
    "WorkflowTemplate": m.WorkflowTemplate,
    "ClusterWorkflowTemplate": m.ClusterWorkflowTemplate,
}
KINDS: tuple[str, ...] = tuple(_MODELS)
_SUFFIXES = (".yaml", ".yml")
# The Kubernetes API server's generateName suffix: five characters of this alphabet
# (k8s.io/apimachinery/pkg/util/rand.String).
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _generated_suffix() -> str:
    return "".join(_NAME_ALPHABET[b % len(_NAME_ALPHABET)] for b in ids.random_bytes(5))


@dataclass(frozen=True)
class Document:
    """One Argo document: its kind, name, file and Hera model.

    ``index`` is the document's position in a multi-document file; ``line``
    the line it starts on. ``lines`` maps field paths to lines, and
    ``problems`` holds what reading found that is not fatal on its own
    (unknown fields, duplicate keys) — :func:`check` reports them.
    """

    kind: str
    name: str
    source: Path
    model: AnyWorkflow
    index: int = 0
    line: int = 1
    lines: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)
    problems: tuple[Problem, ...] = field(default=(), repr=False, compare=False)

    def __hash__(self) -> int:  # the model is mutable pydantic; identify by where it came from
        return hash((self.kind, self.name, str(self.source), self.index))

    @property
    def spec(self) -> m.WorkflowSpec:
        """The document's own spec (see ``effective_spec`` for a workflowTemplateRef)."""
        return self.model.spec

    @property
    def title(self) -> str:
        """``WorkflowTemplate 'greetings'``."""
        return f"{self.kind} '{self.name}'"

    def line_of(self, path: str) -> int:
        """The line of ``path`` (or of its nearest parent the file spells out)."""
        return nearest_line(self.lines, path, self.line)

    def problem(
        self,
        location: str,
        field_name: str,
        message: str,
        hint: str = "",
        severity: Severity = "error",
        *,
        path: str = "",
    ) -> Problem:
        """A problem in this document, on the line of ``path``."""
        return Problem(
            str(self.source), location, field_name, message, hint, severity, self.line_of(path)
        )


def load_documents(paths: Iterable[Path]) -> list[Document]:
    """Every Argo document in ``paths`` (files or directories), in order.

    Raises :class:`WorkflowInvalid` naming file, line and field for malformed
    YAML, values of the wrong type, or a file that holds no Argo document.
    """
    documents, problems = collect_documents(paths)
    if problems:
        raise WorkflowInvalid(problems)
    return documents


def load_text(text: str, *, source: str = "<string>") -> list[Document]:
    """The Argo documents in ``text`` (``source`` names it in messages)."""
    documents, problems = _read_text(text, Path(source), explicit=True)
    if problems:
        raise WorkflowInvalid(problems)
    return documents


def collect_documents(paths: Iterable[Path]) -> tuple[list[Document], list[Problem]]:
    """Like :func:`load_documents`, but returns the fatal problems instead of raising."""
    documents: list[Document] = []
    problems: list[Problem] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for file in _yaml_files(path):
                found, issues = _read_file(file, explicit=False)
                documents.extend(found)
                problems.extend(issues)
        elif path.exists():
            found, issues = _read_file(path, explicit=True)
            documents.extend(found)
            problems.extend(issues)
        else:
            problems.append(
                Problem(
                    str(path),
                    "",
                    "",
                    "no such file or directory",
                    "check the path (give workflow files or directories of them)",
                )
            )
    return documents, problems


def _yaml_files(directory: Path) -> list[Path]:
    files = [p for p in directory.rglob("*") if p.suffix in _SUFFIXES and p.is_file()]
    return sorted(files, key=lambda p: p.relative_to(directory).as_posix())


def _read_file(path: Path, *, explicit: bool) -> tuple[list[Document], list[Problem]]:
    try:
        text = read_text(path)
    except LimitExceeded as err:
        return [], [Problem(str(path), "", "", str(err).removeprefix(f"{path}: "))]
    except UnicodeDecodeError as err:
        return [], [
            Problem(str(path), "", "", f"not UTF-8 text ({err.reason})", "save it as UTF-8")
        ]
    except OSError as err:
        return [], [Problem(str(path), "", "", f"cannot read: {err.strerror}")]
    return _read_text(text, path, explicit=explicit)


def _read_text(text: str, source: Path, *, explicit: bool) -> tuple[list[Document], list[Problem]]:
    try:
        raws = read_yaml(text, str(source))
    except WorkflowInvalid as err:
        return [], err.problems
    documents: list[Document] = []
    problems: list[Problem] = []
    others: list[str] = []
    for raw in raws:
        kind, issues = _kind(raw, source)
        if kind is None:
            others.append(_what(raw.data))
            problems.extend(issues if explicit else [])
            continue
        if issues:
            problems.extend(issues)
            continue
        where = f"document {raw.index + 1}" if len(raws) > 1 else ""
        document, issues = _document(raw, kind, source, where)
        problems.extend(issues)
        if document is not None:
            documents.append(document)
    if explicit and not documents and not problems:
        found = f" (found: {', '.join(dict.fromkeys(others))})" if others else " (it is empty)"
        problems.append(
            Problem(
                str(source),
                "",
                "",
                f"no Workflow, WorkflowTemplate or ClusterWorkflowTemplate in this file{found}",
                f"give documents with apiVersion: {API_VERSION} and one of those kinds",
            )
        )
    return documents, problems


def _what(data: object) -> str:
    if isinstance(data, dict):
        kind = data.get("kind")
        return f"kind {kind}" if kind else "a mapping without kind"
    return "a list" if isinstance(data, list) else f"a {type(data).__name__}"


def _kind(raw: RawDocument, source: Path) -> tuple[str | None, list[Problem]]:
    """The document's kind if it is one of ours (else None), and what is wrong with its header."""
    data = raw.data
    if not isinstance(data, dict):
        return None, [
            Problem(
                str(source),
                "",
                "",
                f"document {raw.index + 1} is {_what(data)}, not a mapping",
                "each YAML document must be one Workflow or WorkflowTemplate",
                line=raw.line,
            )
        ]
    kind, version = data.get("kind"), data.get("apiVersion")
    argo = isinstance(version, str) and version.startswith("argoproj.io/")
    if kind not in _MODELS:
        if argo and not kind:
            return None, [
                Problem(
                    str(source),
                    "",
                    "kind",
                    "required field is missing",
                    f"set kind: to one of {', '.join(KINDS)}",
                    line=raw.line,
                )
            ]
        return None, []
    if version != API_VERSION:
        line = raw.lines.get("apiVersion", raw.line)
        return str(kind), [
            Problem(
                str(source),
                "",
                "apiVersion",
                f"expected {API_VERSION}, got {version!r}",
                f"set apiVersion: {API_VERSION}",
                line=line,
            )
        ]
    return str(kind), []


def _document(
    raw: RawDocument, kind: str, source: Path, where: str
) -> tuple[Document | None, list[Problem]]:
    """The document (with its non-fatal problems), or the fatal ones; ``where`` names it
    in a multi-document file."""
    model_type = _MODELS[kind]
    data, unknown = inspect(raw.data, model_type)
    fatal: list[Problem] = []
    try:
        text = json.dumps(data, default=str, allow_nan=False)
    except ValueError:
        text = None
        fatal.append(
            Problem(str(source), where, "", "a number is not finite (.nan or .inf)", line=raw.line)
        )
    model: AnyWorkflow | None = None
    if text is not None:
        try:
            model = model_type.model_validate_json(text, strict=True)
        except pydantic.ValidationError as err:
            for issue in translate_errors(err.errors(), model_type):
                field_path = path_text(issue.path)
                fatal.append(
                    Problem(
                        str(source),
                        where,
                        field_path,
                        issue.message,
                        issue.hint,
                        line=nearest_line(raw.lines, field_path, raw.line),
                    )
                )
    if model is None:
        return None, fatal
    meta = model.metadata
    name = ""
    if meta is not None:
        name = meta.name or ""
        if not name and meta.generate_name:
            if kind == "Workflow":
                name = meta.generate_name
            else:
                # A template is named when it is created, as the API server names any
                # object given only generateName (`argo template create` accepts it).
                name = meta.generate_name + _generated_suffix()
                meta.name = name
    if not name:
        return None, [
            Problem(
                str(source),
                where,
                "metadata",
                f"a {kind} needs metadata.name or metadata.generateName",
                "add metadata: {name: …}",
                line=raw.line,
            )
        ]
    document = Document(kind, name, source, model, raw.index, raw.line, raw.lines)
    notes = [
        _unknown_problem(document, where, u.path, u.key, u.suggestion(), u.allowed) for u in unknown
    ]
    notes += [
        Problem(
            str(source),
            where,
            path,
            "duplicate key (only the last value would be used)",
            "remove one of them",
            line=line,
        )
        for path, line in raw.duplicates
    ]
    if notes:
        document = Document(kind, name, source, model, raw.index, raw.line, raw.lines, tuple(notes))
    return document, []


_TEMPLATE_TYPES = (
    "container, script, dag, steps, suspend (and, not run locally: resource, http, plugin, "
    "data, containerSet)"
)


def _unknown_problem(
    document: Document,
    where: str,
    path: tuple[str | int, ...],
    key: str,
    suggestion: str | None,
    allowed: tuple[str, ...],
) -> Problem:
    field_path = path_text((*path, key))
    is_template = len(path) == 3 and path[:2] == ("spec", "templates")
    if is_template:
        message = f"unknown field {key!r} in a template (template types: {_TEMPLATE_TYPES})"
    else:
        message = f"unknown field {key!r}"
    if suggestion:
        hint = f"did you mean {suggestion!r}?"
    else:
        hint = "remove it, or fix its name" if is_template else _allowed_hint(allowed)
    return document.problem(where, field_path, message, hint, path=field_path)


def _allowed_hint(allowed: tuple[str, ...]) -> str:
    shown = ", ".join(allowed[:12]) + (", …" if len(allowed) > 12 else "")
    return f"remove it, or use one of: {shown}"
