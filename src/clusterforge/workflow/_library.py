"""The template library: WorkflowTemplates by name, for ``templateRef`` and ``workflowTemplateRef``.

On Argo, ``templateRef: {name: greetings, template: hello}`` is looked up in
the cluster (namespaced WorkflowTemplates, or ClusterWorkflowTemplates with
``clusterScope: true``). Locally the same names are looked up in a
:class:`TemplateLibrary` filled from directories (``--template-dir``, and the
project's own stage library) and from the files being run. The two scopes are
separate tables, as in Argo. Two different templates with one name are an
error naming both files; the same document added twice is harmless.

:func:`effective_spec` gives the spec a Workflow actually runs: its own, or —
with ``spec.workflowTemplateRef`` — the referenced template's spec with the
Workflow's fields laid over it and its arguments overriding the template's
parameter by parameter, as Argo joins them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hera.workflows import models as m

from ._documents import Document, load_documents
from ._problems import Problem, WorkflowInvalid

__all__ = ["TemplateLibrary", "default_template_dirs", "effective_spec"]

JSON = dict[str, Any]


def default_template_dirs() -> list[Path]:
    """Directories every library starts from (the stage library joins later)."""
    return []


def _scope_kind(cluster_scope: bool) -> str:
    return "ClusterWorkflowTemplate" if cluster_scope else "WorkflowTemplate"


class TemplateLibrary:
    """WorkflowTemplates and ClusterWorkflowTemplates, each scope by name."""

    def __init__(self, documents: Iterable[Document] = ()) -> None:
        self._tables: dict[bool, dict[str, Document]] = {False: {}, True: {}}
        for document in documents:
            self.add(document)

    @classmethod
    def from_paths(cls, paths: Iterable[Path]) -> TemplateLibrary:
        """A library of every template document under ``paths`` (Workflows there are skipped)."""
        library = cls()
        problems: list[Problem] = []
        for document in load_documents(list(paths)):
            if document.kind == "Workflow":
                continue
            try:
                library.add(document)
            except WorkflowInvalid as err:
                problems.extend(err.problems)
        if problems:
            raise WorkflowInvalid(problems)
        return library

    def add(self, doc: Document) -> None:
        """Register a (Cluster)WorkflowTemplate; a different one with the same name is an error."""
        if doc.kind == "Workflow":
            raise WorkflowInvalid.single(
                str(doc.source),
                doc.title,
                "kind",
                "a Workflow cannot be used as a template",
                "make it a WorkflowTemplate to reference it",
                line=doc.line,
            )
        cluster = doc.kind == "ClusterWorkflowTemplate"
        table = self._tables[cluster]
        existing = table.get(doc.name)
        if existing is None:
            table[doc.name] = doc
            return
        if existing.model == doc.model:
            return
        raise WorkflowInvalid.single(
            str(doc.source),
            doc.title,
            "metadata.name",
            f"{doc.kind} {doc.name!r} is defined twice: in {existing.source}:{existing.line} "
            f"and in {doc.source}:{doc.line}",
            "rename one of them, or leave one directory out",
            line=doc.line,
        )

    def find(self, name: str, *, cluster_scope: bool = False) -> Document | None:
        """The template document named ``name`` in that scope, or None."""
        return self._tables[cluster_scope].get(name)

    def names(self, *, cluster_scope: bool = False) -> list[str]:
        return sorted(self._tables[cluster_scope])

    def documents(self) -> list[Document]:
        return [*self._tables[False].values(), *self._tables[True].values()]

    def __len__(self) -> int:
        return len(self._tables[False]) + len(self._tables[True])

    def get(self, name: str, *, cluster_scope: bool = False) -> Document:
        """The template document named ``name``; :class:`WorkflowInvalid` if there is none."""
        found = self.find(name, cluster_scope=cluster_scope)
        if found is None:
            raise WorkflowInvalid.single(
                "", "", "", *self.missing_document(name, cluster_scope=cluster_scope)
            )
        return found

    def missing_document(self, name: str, *, cluster_scope: bool = False) -> tuple[str, str]:
        """(message, hint) for a reference to a template document that is not here."""
        kind = _scope_kind(cluster_scope)
        known = self.names(cluster_scope=cluster_scope)
        listing = f"known: {', '.join(known)}" if known else "the library is empty"
        message = f"{kind} {name!r} not found in the template library ({listing})"
        if self.find(name, cluster_scope=not cluster_scope) is not None:
            other = _scope_kind(not cluster_scope)
            hint = (
                f"there is a {other} {name!r}: set clusterScope: {str(not cluster_scope).lower()}"
            )
        else:
            hint = "add the file or directory that defines it with --template-dir"
        return message, hint

    def resolve(self, ref: m.TemplateRef) -> tuple[m.Template, Document]:
        """The template a ``templateRef`` names, and the document that owns it."""
        doc = self.get(ref.name or "", cluster_scope=bool(ref.cluster_scope))
        for template in doc.spec.templates or []:
            if template.name == ref.template:
                return template, doc
        names = ", ".join(t.name or "?" for t in doc.spec.templates or []) or "none"
        raise WorkflowInvalid.single(
            str(doc.source),
            doc.title,
            "spec.templates",
            f"template {ref.template!r} not found in {doc.kind} {doc.name!r} "
            f"(its templates: {names})",
            "fix templateRef.template",
            line=doc.line_of("spec.templates"),
        )


def effective_spec(doc: Document, library: TemplateLibrary) -> m.WorkflowSpec:
    """The spec ``doc`` runs: its own, or its workflowTemplateRef's joined with its own."""
    ref = doc.spec.workflow_template_ref if doc.kind == "Workflow" else None
    if ref is None:
        return doc.spec
    base = library.get(ref.name or "", cluster_scope=bool(ref.cluster_scope))
    merged = _dump(base.spec)
    own = _dump(doc.spec)
    own.pop("workflowTemplateRef", None)
    for key, value in own.items():
        if key == "arguments":
            merged[key] = _merge_arguments(merged.get(key, {}), value)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    merged.pop("workflowTemplateRef", None)
    return m.WorkflowSpec.model_validate(merged)


def _dump(spec: m.WorkflowSpec) -> JSON:
    data: JSON = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
    return data


def _deep_merge(base: JSON, over: JSON) -> JSON:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _merge_arguments(base: JSON, over: JSON) -> JSON:
    """Argo's MergeParameters: the Workflow's entries win, name by name."""
    out = dict(base)
    for kind in ("parameters", "artifacts"):
        if kind not in over:
            continue
        merged: dict[str, JSON] = {item["name"]: dict(item) for item in base.get(kind, [])}
        for item in over[kind]:
            merged[item["name"]] = {**merged.get(item["name"], {}), **item}
        out[kind] = list(merged.values())
    return out
