"""Argo's three expression languages, read and evaluated without ``eval()``.

A workflow template carries small programs in strings, and the same template
must mean the same thing on the local engine as on Argo. Each language gets a
hand-written tokenizer, a recursive-descent (Pratt) parser and a tree
evaluator that follow the Go library Argo uses, quirks included; nothing is
ever handed to Python's ``eval``, ``exec`` or ``compile``.

``{{…}}`` template tags (Argo's fasttemplate + expr-lang)
    :func:`references` lists the variables of simple tags such as
    ``{{inputs.parameters.x}}``; :func:`expression_references` those read by
    expression tags such as ``{{=asInt(inputs.parameters.n) + 1}}``;
    :func:`substitute` replaces both. Expression tags support literals
    (numbers, ``'strings'``, ``"strings"``, ``true``, ``false``, ``nil``, lists,
    maps), dotted and indexed variables (``inputs.parameters['my-param']``),
    ``+ - * / % **``, comparisons, ``&& || !`` / ``and or not``, ``c ? a : b``,
    ``??``, ``in``, ``contains``, ``matches``, and the functions ``asInt``,
    ``asFloat``, ``string``, ``toJson``, ``len``, ``jsonpath`` and a sprig subset
    (``sprig.upper``, ``sprig.trim``, ``sprig.default``, …). Every variable is a
    string, and non-string results are written the way Argo's Go code writes
    them. The full reference is ``docs/expressions.md``.

``when`` (govaluate, as Argo runs it)
    :func:`check_when` validates a condition before substitution, with tags as
    opaque operands; :func:`evaluate_when` evaluates it after substitution,
    with bare words read as strings (``none == none`` is true).

``depends`` (Argo's enhanced depends logic)
    :func:`parse_depends` reads ``A.Failed || (B && !C.Succeeded)`` into a
    :class:`DependsExpression`, which names its tasks and evaluates against a
    :class:`TaskStates`; :func:`depends_from_dependencies` turns the legacy
    ``dependencies:`` list into the same form.

Every mistake is an :class:`ExpressionError` (an
:class:`~clusterforge.errors.InvalidInput`) carrying the expression, the
0-based position of the bad token and the reason, and drawing a caret under
it.
"""

from __future__ import annotations

from ._conditions import evaluate_condition, evaluate_value
from ._depends import (
    TASK_RESULTS,
    ContinueOn,
    DependsExpression,
    TaskStates,
    depends_from_dependencies,
    parse_depends,
)
from ._errors import ExpressionError
from ._gofmt import go_json
from ._templates import expression_references, references, substitute
from ._when import check_when, evaluate_when

__all__ = [
    "TASK_RESULTS",
    "ContinueOn",
    "DependsExpression",
    "ExpressionError",
    "TaskStates",
    "check_when",
    "depends_from_dependencies",
    "evaluate_condition",
    "evaluate_value",
    "evaluate_when",
    "expression_references",
    "go_json",
    "parse_depends",
    "references",
    "substitute",
]
