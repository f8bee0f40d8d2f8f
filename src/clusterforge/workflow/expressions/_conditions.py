"""Conditions over typed values: an expr-lang text that must give a boolean.

Argo evaluates some expressions against structured values rather than the
workflow's string variables — an ``http`` template's ``successCondition``
sees ``response.statusCode`` (an int), ``response.body`` (a string) and
``response.headers`` (a map of lists), as the agent's ``EvalBool`` does. The
same parser and evaluator as ``{{=…}}`` tags apply; only the scope differs.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._errors import ExpressionError
from ._expr_eval import EvalError, Scope, evaluate
from ._expr_parser import ParseError, parse_expr
from ._gofmt import go_value

__all__ = ["evaluate_condition", "evaluate_value"]


def evaluate_condition(expression: str, values: Mapping[str, object], *, language: str) -> bool:
    """``expression`` evaluated with ``values`` as its top-level names; it must be a bool.

    Raises :class:`ExpressionError` (as ``language``) when it does not parse,
    reads a name ``values`` lacks, or gives something other than a boolean.
    """
    try:
        result = evaluate(parse_expr(expression), Scope(values))
    except (ParseError, EvalError) as exc:
        raise ExpressionError(expression, exc.position, exc.reason, language=language) from None
    if not isinstance(result, bool):
        raise ExpressionError(
            expression, 0, f"gives {go_value(result)!r}, not true or false", language=language
        )
    return result


def evaluate_value(expression: str, values: Mapping[str, object], *, language: str) -> object:
    """``expression`` evaluated with ``values`` as its top-level names, whatever it gives.

    A ``data`` template's transformation (``filter(data, {# endsWith ".log"})``)
    is one: Argo runs it with ``data`` as the only name. Raises
    :class:`ExpressionError` (as ``language``) as :func:`evaluate_condition` does.
    """
    try:
        return evaluate(parse_expr(expression), Scope(values))
    except (ParseError, EvalError) as exc:
        raise ExpressionError(expression, exc.position, exc.reason, language=language) from None
