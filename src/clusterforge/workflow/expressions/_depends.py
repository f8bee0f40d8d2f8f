"""Enhanced ``depends``: when a DAG task may start, from how its dependencies ended.

Argo's grammar (docs/enhanced-depends-logic.md, workflow/common/ancestry.go):
task names, optionally with a result — ``A.Succeeded``, ``A.Failed``,
``A.Errored``, ``A.Skipped``, ``A.Omitted``, ``A.Daemoned``, and for looped
tasks ``A.AnySucceeded`` / ``A.AllFailed`` — combined with ``&&``, ``||``,
``!`` and parentheses (``!`` binds tightest, then ``&&``, then ``||``).

A bare name ``A`` means ``(A.Succeeded || A.Skipped || A.Daemoned)``, widened
by the dependency's ``continueOn``: ``.Errored`` is added when it continues on
error and ``.Failed`` when it continues on failure (``expandDependency``).
The legacy ``dependencies: [A, B]`` list is ``A && B`` with the same
expansion.

Results map to node phases as in Argo's DAG evaluator: ``.Errored`` is phase
``Error``; ``.AnySucceeded`` is true when any child of a looped task
succeeded; ``.AllFailed`` when it has children and every one has phase
``Failed`` (an ``Error`` child does not count as failed). ``.Daemoned`` is
true while a daemon step runs and is ready (its states report ``Daemoned``).

The caller evaluates once every referenced task has finished (Argo waits for
all dependencies to be fulfilled before it evaluates).

``&&`` and ``||`` chains are kept flat, so a fan-in over hundreds of tasks
does not nest; only parentheses and ``!`` add depth.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ._errors import MAX_DEPTH, ExpressionError

__all__ = [
    "TASK_RESULTS",
    "ContinueOn",
    "DependsExpression",
    "TaskStates",
    "depends_from_dependencies",
    "parse_depends",
]

_LANGUAGE = "depends expression"

TASK_RESULTS = (
    "Succeeded",
    "Failed",
    "Errored",
    "Skipped",
    "Omitted",
    "Daemoned",
    "AnySucceeded",
    "AllFailed",
)
_PHASE_OF = {
    "Succeeded": "Succeeded",
    "Failed": "Failed",
    "Errored": "Error",
    "Skipped": "Skipped",
    "Omitted": "Omitted",
}
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_RESULT = re.compile(r"[A-Za-z0-9_]*")


class TaskStates(Protocol):
    """What ``depends`` needs to know about the tasks it names."""

    def phase(self, task: str) -> str:
        """The task's node phase: Pending Running Succeeded Failed Error Skipped Omitted,
        or ``Daemoned`` for a daemon step that is running and ready."""
        ...

    def child_phases(self, task: str) -> Sequence[str]:
        """Phases of a looped task's children (withItems, withParam, withSequence), else empty."""
        ...


@dataclass(frozen=True, slots=True)
class ContinueOn:
    """A dependency's ``continueOn``: which of its endings still let dependants run."""

    failed: bool = False
    error: bool = False


@dataclass(frozen=True, slots=True)
class _Ref:
    task: str
    result: str | None  # None for a bare name
    position: int


@dataclass(frozen=True, slots=True)
class _Not:
    operand: _Node


@dataclass(frozen=True, slots=True)
class _And:
    items: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Or:
    items: tuple[_Node, ...]


_Node = _Ref | _Not | _And | _Or


@dataclass(frozen=True)
class DependsExpression:
    """A parsed ``depends`` string; construct with :func:`parse_depends`.

    An empty string means "no dependencies": it names no task and is true.
    """

    text: str
    _tree: _Node | None = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tree", _Parser(self.text).parse())

    def tasks(self) -> frozenset[str]:
        """The task names the expression refers to."""
        names: set[str] = set()
        if self._tree is not None:
            _collect(self._tree, names)
        return frozenset(names)

    def evaluate(
        self, states: TaskStates, *, continue_on: Mapping[str, ContinueOn] | None = None
    ) -> bool:
        """Whether the dependent task may run, given how the named tasks ended.

        ``continue_on`` gives the ``continueOn`` of dependencies that have one;
        it widens what a bare name accepts.
        """
        if self._tree is None:
            return True
        return _evaluate(self._tree, states, continue_on or {})

    def expanded(self, *, continue_on: Mapping[str, ContinueOn] | None = None) -> str:
        """The expression with every bare name spelled out, as Argo evaluates it."""
        if self._tree is None:
            return ""
        return _render(self._tree, continue_on or {}, top=True)


def parse_depends(text: str) -> DependsExpression:
    """Parse a ``depends`` string; raises :class:`ExpressionError` pointing at the bad token."""
    return DependsExpression(text)


def depends_from_dependencies(names: Sequence[str]) -> DependsExpression:
    """The legacy ``dependencies: [A, B]`` list as the equivalent expression ``A && B``."""
    shown = ", ".join(names)
    offset = 0
    for name in names:
        if _NAME.fullmatch(name) is None:
            raise ExpressionError(
                shown,
                offset,
                f"{name!r} is not a task name (letters, digits, '-' and '_')",
                language="dependencies list",
            )
        offset += len(name) + 2
    return DependsExpression(" && ".join(names))


# -- parsing -------------------------------------------------------------------

_Token = tuple[str, str, int]  # (kind, text, position); kinds: name & | ! ( ) end


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if text.startswith(("&&", "||"), i):
            tokens.append((text[i : i + 2], text[i : i + 2], i))
            i += 2
            continue
        if ch in "!()":
            tokens.append((ch, ch, i))
            i += 1
            continue
        match = _NAME.match(text, i)
        if match is None:
            if ch in "&|":
                raise _error(text, i, f"'{ch}' is not an operator; use '{ch * 2}'")
            raise _error(
                text, i, f"unexpected {ch!r} (expected a task name, '&&', '||', '!' or parentheses)"
            )
        end = match.end()
        name = match.group(0)
        if end < n and text[end] == ".":
            result_match = _RESULT.match(text, end + 1)
            result = result_match.group(0) if result_match else ""
            if result not in TASK_RESULTS:
                raise _error(text, end + 1, _bad_result(result))
            tokens.append(("name", f"{name}.{result}", i))
            i = end + 1 + len(result)
            continue
        tokens.append(("name", name, i))
        i = end
    tokens.append(("end", "", n))
    return tokens


def _bad_result(result: str) -> str:
    choices = ", ".join(TASK_RESULTS)
    if not result:
        return f"expected a task result after '.' ({choices})"
    for known in TASK_RESULTS:
        if known.lower() == result.lower():
            return f"unknown task result '{result}' (results are case-sensitive: '{known}')"
    return f"unknown task result '{result}' (expected one of {choices})"


def _error(text: str, position: int, reason: str) -> ExpressionError:
    return ExpressionError(text, position, reason, language=_LANGUAGE)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.nesting = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def parse(self) -> _Node | None:
        if self.current[0] == "end":
            return None
        node = self.or_expr()
        kind, text, position = self.current
        if kind != "end":
            raise _error(self.text, position, f"unexpected '{text}' (expected '&&' or '||')")
        return node

    def or_expr(self) -> _Node:
        items = [self.and_expr()]
        while self.current[0] == "||":
            self.index += 1
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else _Or(tuple(items))

    def and_expr(self) -> _Node:
        items = [self.not_expr()]
        while self.current[0] == "&&":
            self.index += 1
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else _And(tuple(items))

    def not_expr(self) -> _Node:
        kind, text, position = self.current
        self.nesting += 1
        try:
            if self.nesting > MAX_DEPTH:
                raise _error(
                    self.text,
                    position,
                    f"expression is nested too deeply (over {MAX_DEPTH} levels)",
                )
            if kind == "!":
                self.index += 1
                return _Not(self.not_expr())
            if kind == "(":
                self.index += 1
                inner = self.or_expr()
                if self.current[0] != ")":
                    closing = self.current
                    reason = (
                        "missing ')'"
                        if closing[0] == "end"
                        else f"expected ')' but found '{closing[1]}'"
                    )
                    raise _error(self.text, closing[2], reason)
                self.index += 1
                return inner
            if kind == "name":
                self.index += 1
                task, _, result = text.partition(".")
                return _Ref(task, result or None, position)
            previous = self.tokens[self.index - 1][1] if self.index else ""
            after = f" after '{previous}'" if previous else ""
            found = "the end" if kind == "end" else f"'{text}'"
            raise _error(self.text, position, f"expected a task name{after}, found {found}")
        finally:
            self.nesting -= 1


# -- evaluation and rendering -------------------------------------------------------


def _collect(node: _Node, names: set[str]) -> None:
    if isinstance(node, _Ref):
        names.add(node.task)
    elif isinstance(node, _Not):
        _collect(node.operand, names)
    else:
        for item in node.items:
            _collect(item, names)


def _bare_results(task: str, continue_on: Mapping[str, ContinueOn]) -> tuple[str, ...]:
    results = ["Succeeded", "Skipped", "Daemoned"]
    option = continue_on.get(task)
    if option is not None and option.error:
        results.append("Errored")
    if option is not None and option.failed:
        results.append("Failed")
    return tuple(results)


def _result(task: str, result: str, states: TaskStates) -> bool:
    if result in _PHASE_OF:
        return states.phase(task) == _PHASE_OF[result]
    if result == "AnySucceeded":
        return any(phase == "Succeeded" for phase in states.child_phases(task))
    if result == "AllFailed":
        children = states.child_phases(task)
        return len(children) > 0 and all(phase == "Failed" for phase in children)
    return result == "Daemoned" and states.phase(task) == "Daemoned"


def _evaluate(node: _Node, states: TaskStates, continue_on: Mapping[str, ContinueOn]) -> bool:
    if isinstance(node, _Ref):
        if node.result is not None:
            return _result(node.task, node.result, states)
        return any(_result(node.task, r, states) for r in _bare_results(node.task, continue_on))
    if isinstance(node, _Not):
        return not _evaluate(node.operand, states, continue_on)
    if isinstance(node, _And):
        return all(_evaluate(item, states, continue_on) for item in node.items)
    return any(_evaluate(item, states, continue_on) for item in node.items)


def _render(node: _Node, continue_on: Mapping[str, ContinueOn], *, top: bool = False) -> str:
    if isinstance(node, _Ref):
        if node.result is not None:
            return f"{node.task}.{node.result}"
        spelled = " || ".join(f"{node.task}.{r}" for r in _bare_results(node.task, continue_on))
        return f"({spelled})"
    if isinstance(node, _Not):
        return "!" + _render(node.operand, continue_on)
    joiner = " && " if isinstance(node, _And) else " || "
    text = joiner.join(_render(item, continue_on) for item in node.items)
    return text if top else f"({text})"
