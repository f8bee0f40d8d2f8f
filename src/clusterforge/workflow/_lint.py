"""Lint: load everything given, build one library from it, check every document.

This is ``clusterforge lint``'s engine, usable without the CLI. Workflows are
checked as they would run (with ``arguments``); WorkflowTemplates are checked
on their own as library entries *and* serve the ``templateRef`` s of
everything else, together with the ``template_dirs``. Nothing stops at the
first bad file: files that cannot be read or parsed contribute their errors,
the rest are still checked, and the report holds every problem once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ._checks import check
from ._documents import Document, collect_documents
from ._library import TemplateLibrary, default_template_dirs
from ._problems import Problem, WorkflowInvalid, errors_of, unique

__all__ = ["LintReport", "lint"]

_NO_ARGUMENTS: Mapping[str, str] = {}


@dataclass(frozen=True)
class LintReport:
    """The documents that were read and everything found in them."""

    documents: tuple[Document, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return errors_of(self.problems)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def lint(
    paths: Iterable[Path],
    *,
    template_dirs: Iterable[Path] = (),
    arguments: Mapping[str, str] = _NO_ARGUMENTS,
) -> LintReport:
    """Check every document under ``paths`` (files or directories)."""
    paths = [Path(p) for p in paths]
    extra, problems = collect_documents([*default_template_dirs(), *template_dirs])
    documents, found = collect_documents(paths)
    problems.extend(found)
    library = TemplateLibrary()
    for doc in [*extra, *documents]:
        if doc.kind == "Workflow":
            continue
        try:
            library.add(doc)
        except WorkflowInvalid as err:
            problems.extend(err.problems)
    if not documents and not problems:
        shown = ", ".join(str(p) for p in paths) or "(nothing given)"
        problems.append(
            Problem(
                shown,
                "",
                "",
                "no Workflow, WorkflowTemplate or ClusterWorkflowTemplate found",
                "give .yaml/.yml files (or directories of them) with Argo documents",
            )
        )
    for doc in documents:
        problems.extend(check(doc, library, arguments, lint=True))
    return LintReport(tuple(documents), tuple(unique(problems)))
