"""``clusterforge argo lint``: Argo's own rules, offline, with file and line.

Two independent checks run on every manifest, because each catches what the
other cannot:

* Argo's JSON schema (:mod:`._schemas`): types, enums and required fields of
  Workflows, WorkflowTemplates, ClusterWorkflowTemplates and CronWorkflows,
  and of Argo Events' Sensors and EventSources.
* ``argo-validate`` (a Go program built by the toolchain resolver from the
  pinned argo-workflows module): strict decoding into Argo's Go types, so an
  unknown field — a typo — fails as the API server's strict field validation
  would, then Argo's ``workflow/validate`` (undefined templates, bad
  ``depends``, unresolved variables, cycles) with templateRef resolved across
  all files given. Sensors and EventSources are decoded strictly into Argo
  Events' Go types.

Other kinds in the same files (Namespace, RBAC, ConfigMap…) are skipped. The
result is a list of :class:`~clusterforge.workflow.Problem` with the file and
the 1-based line to edit.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from clusterforge.errors import InvalidInput, OperationFailed
from clusterforge.stages.argo._schemas import ArgoSchemas, load_schemas
from clusterforge.tools import resolve
from clusterforge.workflow import Problem, WorkflowInvalid, nearest_line, path_text, read_yaml

_MAX_FILE_BYTES = 8 << 20
_MAX_FILES = 2000
_VALIDATE_TIMEOUT = 300.0


@dataclass
class ArgoLintReport:
    """What ``argo lint`` found in a set of files."""

    files: list[Path] = field(default_factory=list)
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    workflows_version: str = ""
    events_version: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def manifest_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named, directories searched recursively, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.suffix in (".yaml", ".yml") and p.is_file() and not _chart_template(p)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise InvalidInput(f"{path}: no such file or directory; name a manifest file or folder")
        if len(found) > _MAX_FILES:
            raise InvalidInput(f"more than {_MAX_FILES} manifest files; lint fewer at once")
    return list(dict.fromkeys(found))


def _chart_template(path: Path) -> bool:
    """A Helm chart's ``templates/`` are Go templates, not YAML (lint the rendered chart)."""
    return path.parent.name == "templates" and (path.parent.parent / "Chart.yaml").is_file()


def lint_manifests(paths: Sequence[Path], *, validator: Path | None = None) -> ArgoLintReport:
    """Both checks over every Argo document in ``paths``."""
    files = manifest_files(paths)
    if not files:
        raise InvalidInput("no .yaml or .yml files among the paths given")
    schemas = load_schemas()
    report = ArgoLintReport(
        files=files,
        workflows_version=schemas.workflows_version,
        events_version=schemas.events_version,
    )
    for path in files:
        report.problems += _schema_problems(path, schemas, report)
    report.problems += _validator_problems(files, validator or resolve("argo-validate"))
    report.problems.sort(key=lambda p: (p.source, p.line or 0, p.message))
    report.problems = list(dict.fromkeys(report.problems))
    return report


def _schema_problems(path: Path, schemas: ArgoSchemas, report: ArgoLintReport) -> list[Problem]:
    source = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_FILE_BYTES + 1)
        if len(raw) > _MAX_FILE_BYTES:
            return [Problem(source, "", "", "larger than 8 MiB; split the file", line=1)]
        documents = read_yaml(raw.decode("utf-8"), source)
    except (OSError, UnicodeDecodeError) as err:
        return [Problem(source, "", "", f"cannot read: {err}", line=1)]
    except WorkflowInvalid as err:
        return list(err.problems)
    problems: list[Problem] = []
    for document in documents:
        data = document.data
        if not isinstance(data, dict):
            continue
        kind = str(data.get("kind", ""))
        found = schemas.for_kind(kind)
        if found is None:
            continue
        report.checked += 1
        schema, definition = found
        name = _name(data)
        for error in _validator(id(schema), definition, schema).iter_errors(data):
            detail = best_match([error, *error.context]) if error.context else error
            where = path_text(list(detail.absolute_path))
            problems.append(
                Problem(
                    source,
                    f"{kind}/{name}",
                    where,
                    f"schema: {_short(detail)}",
                    line=nearest_line(document.lines, where, document.line),
                )
            )
    return problems


_VALIDATORS: dict[tuple[int, str], Draft202012Validator] = {}


def _validator(key: int, definition: str, schema: dict[str, Any]) -> Draft202012Validator:
    """One compiled validator per definition (the schema documents are large)."""
    cached = _VALIDATORS.get((key, definition))
    if cached is None:
        wrapper = {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
        cached = Draft202012Validator(wrapper)
        _VALIDATORS[(key, definition)] = cached
    return cached


def _short(error: ValidationError) -> str:
    message = str(error.message)
    return message if len(message) <= 300 else message[:297] + "..."


def _name(data: dict[str, Any]) -> str:
    metadata = data.get("metadata")
    if isinstance(metadata, dict):
        return str(metadata.get("name") or metadata.get("generateName") or "")
    return ""


def _validator_problems(files: list[Path], validator: Path) -> list[Problem]:
    try:
        done = subprocess.run(
            [str(validator), *(str(path) for path in files)],
            capture_output=True,
            text=True,
            check=False,
            timeout=_VALIDATE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise OperationFailed(f"argo-validate could not run: {err}") from None
    if done.returncode not in (0, 1):
        raise OperationFailed(
            f"argo-validate failed (exit {done.returncode}): {done.stderr.strip()[-500:]}"
        )
    try:
        found = json.loads(done.stdout)["problems"]
    except (ValueError, KeyError, TypeError):
        raise OperationFailed(f"argo-validate printed no report: {done.stdout[:200]!r}") from None
    return [
        Problem(
            str(item.get("file", "")),
            f"{item.get('kind', '')}/{item.get('name', '')}".strip("/"),
            "",
            f"{item.get('check', 'argo-validate')}: {item.get('message', '')}",
            line=int(item.get("line") or 1),
        )
        for item in found
    ]
