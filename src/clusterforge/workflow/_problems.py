"""What a check finds, and the one error that carries all of it.

Gardener validates a whole task graph before the first task runs, and so do
we: every check appends a :class:`Problem` instead of raising at the first
mistake, so one ``clusterforge lint`` run shows everything that is wrong. A
problem names the file (and line), *where* in the workflow it is (template
``main``, task ``b``), the field, what is wrong and how to fix it — one line
each (plus a caret drawing under a bad expression), the format the CLI prints
and :class:`WorkflowInvalid` carries, e.g. for ``depends: c``::

    wf.yaml:12: template 'main' › task 'b': depends: unknown task 'c'
    (tasks in this DAG: a, d) — fix the name or add the task

(one line, wrapped here).
"""  # noqa: RUF002 - the separator between template and task is deliberate

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from clusterforge.errors import InvalidInput

__all__ = ["Problem", "Severity", "WorkflowInvalid", "errors_of", "unique"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding about a workflow document.

    ``source`` is the file (or ``<string>``); ``line`` the 1-based line in it
    when known (and ``column``, for a YAML syntax error). ``location`` says
    where in the workflow (template and task; empty for the document as a
    whole), ``field`` the field path relative to it (``depends``,
    ``spec.entrypoint``). ``hint`` says what to do.
    """

    source: str
    location: str
    field: str
    message: str
    hint: str = ""
    severity: Severity = "error"
    line: int | None = None
    column: int | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = self.source
        if where and self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        parts = [part for part in (where, self.location, self.field) if part]
        first, newline, rest = self.message.partition("\n")  # e.g. an expression's caret drawing
        text = first + (f" — {self.hint}" if self.hint else "") + newline + rest
        return ": ".join([*parts, text])


def unique(problems: Iterable[Problem]) -> list[Problem]:
    """``problems`` without repeats, in first-seen order."""
    return list(dict.fromkeys(problems))


def errors_of(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


class WorkflowInvalid(InvalidInput):
    """A workflow document (or a set of them) that must not run.

    ``problems`` holds every finding (errors first, then any warnings that came
    with them); ``str()`` is one line per error.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        found = unique(problems)
        self.problems: list[Problem] = errors_of(found) + [p for p in found if not p.is_error]
        lines = [str(p) for p in errors_of(self.problems)] or [str(p) for p in self.problems]
        super().__init__("\n".join(lines) or "invalid workflow")

    @classmethod
    def single(
        cls,
        source: str,
        location: str,
        field: str,
        message: str,
        hint: str = "",
        *,
        line: int | None = None,
    ) -> WorkflowInvalid:
        """A ``WorkflowInvalid`` holding one error."""
        return cls([Problem(source, location, field, message, hint, "error", line)])
