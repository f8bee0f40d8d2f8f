"""Argo workflows: load them, and check them whole before anything runs.

clusterforge speaks Argo Workflows' own dialect (``argoproj.io/v1alpha1``), so
the same files run on this machine and on a management cluster. This package
reads those files into Hera's generated models (:func:`load_documents`,
:func:`load_text`), keeps reusable WorkflowTemplates by name
(:class:`TemplateLibrary`, :func:`effective_spec` for a
``workflowTemplateRef``), and checks a workflow completely — names,
references, the DAG graph, expressions, parameters and what the local engine
cannot honour — before its first step (:func:`check`,
:func:`check_or_raise`; :func:`lint` for whole directories). Every finding
is a :class:`Problem` naming file, line, template/task and field; errors
travel together in one :class:`WorkflowInvalid`.

The expression languages (``{{…}}`` tags, ``when``, ``depends``) live in
:mod:`clusterforge.workflow.expressions`; their checking API is re-exported
here.
"""

from __future__ import annotations

from clusterforge.workflow.expressions import (
    ExpressionError,
    check_when,
    depends_from_dependencies,
    expression_references,
    parse_depends,
    references,
)

from ._checks import check, check_or_raise
from ._conditions import ConditionError, Requirement, parse_condition
from ._documents import API_VERSION, KINDS, AnyWorkflow, Document, load_documents, load_text
from ._library import TemplateLibrary, default_template_dirs, effective_spec
from ._lint import LintReport, lint
from ._problems import Problem, Severity, WorkflowInvalid
from ._support import LOCAL_SUPPORT
from ._volumes import mount_path_problem
from ._yaml import RawDocument, nearest_line, path_text, read_yaml

__all__ = [
    "API_VERSION",
    "KINDS",
    "LOCAL_SUPPORT",
    "AnyWorkflow",
    "ConditionError",
    "Document",
    "ExpressionError",
    "LintReport",
    "Problem",
    "RawDocument",
    "Requirement",
    "Severity",
    "TemplateLibrary",
    "WorkflowInvalid",
    "check",
    "check_or_raise",
    "check_when",
    "default_template_dirs",
    "depends_from_dependencies",
    "effective_spec",
    "expression_references",
    "lint",
    "load_documents",
    "load_text",
    "mount_path_problem",
    "nearest_line",
    "parse_condition",
    "parse_depends",
    "path_text",
    "read_yaml",
    "references",
]
