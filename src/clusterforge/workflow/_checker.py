"""What a rule module needs from the template checker: record a problem, and
resolve or check what a task or step calls.

The rule modules (:mod:`._field_rules`, :mod:`._task_graphs`) take any
:class:`Checker`; :class:`._template_checks.TemplateChecker` is the one that
exists. Typed here, below all three, so the rules never import the checker
that calls them (no import cycle).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from hera.workflows import models as m

from ._documents import Document
from ._problems import Severity
from ._sites import Holder, Site
from ._variables import Scope

__all__ = ["Checker"]


class Checker(Protocol):
    def add(
        self,
        site: Site | Document,
        location: str,
        field_name: str,
        message: str,
        hint: str = "",
        severity: Severity = "error",
        *,
        path: str = "",
    ) -> None: ...

    def parameter_names(
        self, site: Site | Document, loc: str, params: Sequence[m.Parameter], path: str, shown: str
    ) -> None: ...

    def resolve(self, site: Site, holder: Holder, loc: str, path: str) -> Site | None: ...

    def quiet_resolve(self, site: Site, holder: Holder) -> Site | None: ...

    def check_holder(self, site: Site, holder: Holder, loc: str, path: str) -> None: ...

    def check_call(
        self,
        site: Site | Document,
        holder: Holder | None,
        called: Site | None,
        loc: str,
        path: str,
        *,
        given: Mapping[str, str | None] | None = None,
        args_field: str = "arguments.parameters",
    ) -> None: ...

    def check_references(
        self,
        site: Site,
        loc: str,
        scope: Scope,
        data: dict[str, Any],
        path: str,
        *,
        skip: frozenset[str] = frozenset(),
        arguments: bool = False,
    ) -> None: ...
