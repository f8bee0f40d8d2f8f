"""Evaluating a parsed ``{{=…}}`` expression against the workflow's variables.

The variables are Argo's flat map of dotted names (``inputs.parameters.x`` →
``"5"``) expanded into nested namespaces, as Argo does before handing them to
expr (util/expand): ``inputs.parameters.x`` is then both a dotted name and a
path through maps, so ``inputs.parameters['x']`` and ``inputs.parameters.x``
read the same value. Where a name is both a value and a prefix of other names
(``workflow.parameters`` and ``workflow.parameters.x``), the longer names win,
as in Argo.

Operators follow expr-lang's runtime: ``int`` arithmetic stays ``int``
(64-bit, wrapping), ``/`` always gives a float, ``%`` wants integers and
truncates toward zero like Go, ``**`` gives a float, ``&&`` and ``||``
short-circuit and want booleans, ``==`` compares ints and floats by value.
Comparing a string with a number or a boolean is an error, as in Argo (where
expr's type checker rejects it): every variable is a string, so
``inputs.parameters.n == 3`` is a mistake; write ``asInt(inputs.parameters.n)
== 3`` or ``inputs.parameters.n == '3'``.

A name that is not among the variables raises ``UnknownVariable`` naming the
whole dotted path, so a caller can leave the tag for a later substitution
pass or report it. ``a ?? b`` gives ``b`` when the variable path ``a`` is
missing or nil.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

from ._expr_collections import apply_closure, int_range, slice_value
from ._expr_functions import FunctionError, call, go_type
from ._expr_parser import (
    CLOSURE_FUNCTIONS,
    Binary,
    Call,
    Closure,
    ListNode,
    Literal,
    MapNode,
    Member,
    Name,
    Node,
    Pointer,
    Slice,
    Ternary,
    Unary,
    static_path,
)
from ._gofmt import go_value
from ._re2 import RegexError, compile_go_regex

__all__ = ["EvalError", "Scope", "UnknownVariable", "build_scope", "evaluate"]


class Scope(dict[str, object]):
    """A namespace of variables (as opposed to a map value from JSON)."""

    __slots__ = ()


class EvalError(Exception):
    """Evaluation failed at ``position`` (an offset into the expression)."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason


class UnknownVariable(EvalError):
    """The expression reads ``name``, which is not among the variables."""

    def __init__(self, position: int, name: str) -> None:
        super().__init__(position, f"unknown variable '{name}'")
        self.name = name


def build_scope(values: Mapping[str, str]) -> Scope:
    """Nested namespaces from dotted names; a name that prefixes others is dropped."""
    parents: set[str] = set()
    for key in values:
        dot = key.find(".")
        while dot >= 0:
            parents.add(key[:dot])
            dot = key.find(".", dot + 1)
    root = Scope()
    for key in sorted(values):
        if key in parents:
            continue
        parts = key.split(".")
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, Scope):
                child = Scope()
                node[part] = child
            node = child
        node[parts[-1]] = values[key]
    return root


def evaluate(node: Node, scope: Scope) -> object:
    """The value of ``node``; ``EvalError`` (or ``UnknownVariable``) when it has none."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        if node.name in scope:
            return scope[node.name]
        raise UnknownVariable(node.position, node.name)
    if isinstance(node, Member):
        return _member(node, scope)
    if isinstance(node, Pointer):
        return scope["#"]  # the parser allows '#' only inside a closure
    if isinstance(node, Call):
        try:
            if node.name in CLOSURE_FUNCTIONS:
                return _closure_call(node, scope)
            return call(node.name, [evaluate(arg, scope) for arg in node.args])
        except FunctionError as exc:
            raise EvalError(node.position, str(exc)) from None
    if isinstance(node, Slice):
        low = None if node.low is None else evaluate(node.low, scope)
        high = None if node.high is None else evaluate(node.high, scope)
        try:
            return slice_value(evaluate(node.obj, scope), low, high)
        except FunctionError as exc:
            raise EvalError(node.position, str(exc)) from None
    if isinstance(node, Unary):
        return _unary(node, evaluate(node.operand, scope))
    if isinstance(node, Binary):
        return _binary(node, scope)
    if isinstance(node, Ternary):
        cond = evaluate(node.cond, scope)
        if not isinstance(cond, bool):
            raise EvalError(
                node.position, f"the condition before '?' must be a bool, not {_shown(cond)}"
            )
        return evaluate(node.then if cond else node.otherwise, scope)
    if isinstance(node, ListNode):
        return [evaluate(item, scope) for item in node.items]
    if isinstance(node, MapNode):
        result: dict[str, object] = {}
        for key_node, value_node in node.pairs:
            key = evaluate(key_node, scope)
            if not isinstance(key, str):
                raise EvalError(key_node.position, f"a map key must be a string, not {_shown(key)}")
            result[key] = evaluate(value_node, scope)
        return result
    raise EvalError(node.position, f"cannot evaluate {type(node).__name__}")  # pragma: no cover


def _closure_call(node: Call, scope: Scope) -> object:
    subject_node, closure = node.args
    assert isinstance(closure, Closure)  # the parser builds closure calls so

    def each(element: object) -> object:
        inner = Scope(scope)
        inner["#"] = element
        return evaluate(closure.body, inner)

    return apply_closure(node.name, evaluate(subject_node, scope), each)


def _shown(value: object) -> str:
    return f"{go_type(value)} ({go_value(value)})" if value is not None else "nil"


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _wrap(value: int) -> int:
    """Go's int64 arithmetic wraps around."""
    return ((value + 2**63) % 2**64) - 2**63


def _member(node: Member, scope: Scope) -> object:
    try:
        obj = evaluate(node.obj, scope)
    except UnknownVariable:
        path = static_path(node)
        if path is None:
            raise
        raise UnknownVariable(node.position, path) from None
    key = evaluate(node.key, scope)
    if obj is None:
        if node.optional:
            return None
        raise EvalError(node.key.position, f"cannot fetch {go_value(key)} from nil")
    if isinstance(obj, Scope):
        if isinstance(key, str) and key in obj:
            return obj[key]
        raise UnknownVariable(
            node.position, static_path(node) or f"{static_path(node.obj)}[{go_value(key)}]"
        )
    if isinstance(obj, Mapping):
        if not isinstance(key, str):
            raise EvalError(node.key.position, f"cannot use {_shown(key)} as a map key")
        return obj.get(key)
    if isinstance(obj, list):
        if isinstance(key, float) and key.is_integer():
            key = int(key)
        if not isinstance(key, int) or isinstance(key, bool):
            raise EvalError(node.key.position, f"cannot index a list with {_shown(key)}")
        index = key + len(obj) if key < 0 else key
        if not 0 <= index < len(obj):
            raise EvalError(
                node.key.position, f"index out of range: {key} (list length {len(obj)})"
            )
        return obj[index]
    raise EvalError(node.key.position, f"cannot fetch {go_value(key)} from {_shown(obj)}")


def _unary(node: Unary, value: object) -> object:
    if node.op in ("!", "not"):
        if not isinstance(value, bool):
            raise EvalError(node.position, f"'{node.op}' needs a bool, not {_shown(value)}")
        return not value
    if not _is_number(value):
        raise EvalError(node.position, f"unary '{node.op}' needs a number, not {_shown(value)}")
    if node.op == "+":
        return value
    return _wrap(-value) if isinstance(value, int) else -value


def _binary(node: Binary, scope: Scope) -> object:
    op = node.op
    if op in ("&&", "and", "||", "or"):
        return _logical(node, scope)
    if op == "??":
        try:
            left = evaluate(node.left, scope)
        except UnknownVariable:
            if static_path(node.left) is None:
                raise
            left = None
        return evaluate(node.right, scope) if left is None else left
    left = evaluate(node.left, scope)
    right = evaluate(node.right, scope)
    if op in ("==", "!="):
        equal = _equal(left, right, node)
        return equal if op == "==" else not equal
    if op in ("<", ">", "<=", ">="):
        return _compare(node, left, right)
    if op == "..":
        try:
            return int_range(left, right)
        except FunctionError as exc:
            raise EvalError(node.position, str(exc)) from None
    if op in ("in", "matches", "contains", "startsWith", "endsWith"):
        result = _membership(node, left, right)
        return not result if node.negated else result
    return _arithmetic(node, left, right)


def _logical(node: Binary, scope: Scope) -> bool:
    left = evaluate(node.left, scope)
    if not isinstance(left, bool):
        raise EvalError(node.position, f"'{node.op}' needs bools, not {_shown(left)} on its left")
    if left == (node.op in ("||", "or")):
        return left
    right = evaluate(node.right, scope)
    if not isinstance(right, bool):
        raise EvalError(node.position, f"'{node.op}' needs bools, not {_shown(right)} on its right")
    return right


def _kind(value: object) -> str:
    if _is_number(value):
        return "number"
    return go_type(value)


def _equal(left: object, right: object, node: Binary | None) -> bool:
    """expr's equality; with ``node``, a string against a number or bool is an error."""
    if _is_number(left) and _is_number(right):
        return left == right
    if left is None or right is None:
        return left is None and right is None
    scalar = ("string", "bool", "number")
    if _kind(left) != _kind(right):
        if node is not None and _kind(left) in scalar and _kind(right) in scalar:
            raise _mismatch(node, left, right)
        return False
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            _equal(a, b, None) for a, b in zip(left, right, strict=True)
        )
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(_equal(left[k], right[k], None) for k in left)
    return left == right


def _mismatch(node: Binary, left: object, right: object) -> EvalError:
    hint = ""
    if "string" in (_kind(left), _kind(right)) and {_kind(left), _kind(right)} & {"number", "bool"}:
        hint = (
            "; every variable is a string: convert with asInt() or asFloat(), "
            "or compare with a quoted string"
        )
    return EvalError(
        node.position,
        f"invalid operation: {node.op} (mismatched types {go_type(left)} and {go_type(right)})"
        + hint,
    )


_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def _compare(node: Binary, left: object, right: object) -> bool:
    if _is_number(left) and _is_number(right):
        return bool(_ORDER[node.op](float(left), float(right)))
    if isinstance(left, str) and isinstance(right, str):
        return bool(_ORDER[node.op](left, right))
    raise _mismatch(node, left, right)


def _membership(node: Binary, left: object, right: object) -> bool:
    op = node.op
    if op == "in":
        if right is None:
            return False
        if isinstance(right, list):
            return any(_equal(item, left, None) for item in right)
        if isinstance(right, Mapping):
            if not isinstance(left, str):
                raise EvalError(node.position, f"cannot use {_shown(left)} as a map key")
            return left in right
        hint = "; for a substring use 'contains'" if isinstance(right, str) else ""
        raise EvalError(
            node.position, f"'in' needs a list or a map on its right, not {_shown(right)}{hint}"
        )
    if not (isinstance(left, str) and isinstance(right, str)):
        raise EvalError(
            node.position,
            f"'{op}' needs strings, not {go_type(left)} and {go_type(right)}",
        )
    if op == "matches":
        try:
            return compile_go_regex(right).search(left) is not None
        except RegexError as exc:
            raise EvalError(node.right.position, str(exc)) from None
    if op == "contains":
        return right in left
    if op == "startsWith":
        return left.startswith(right)
    return left.endswith(right)


def _arithmetic(node: Binary, left: object, right: object) -> object:
    op = node.op
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if not _is_number(left) or not _is_number(right):
        raise _mismatch(node, left, right)
    if op == "%":
        if not isinstance(left, int) or not isinstance(right, int):
            raise EvalError(
                node.position,
                f"invalid operation: % needs integers, not {go_type(left)} and {go_type(right)}",
            )
        if right == 0:
            raise EvalError(node.position, "integer divide by zero")
        remainder = abs(left) % abs(right)
        return -remainder if left < 0 else remainder
    if op in ("+", "-", "*"):
        result = left + right if op == "+" else left - right if op == "-" else left * right
        return _wrap(result) if isinstance(result, int) else float(result)
    if op == "/":
        return _divide(float(left), float(right))
    return _power(float(left), float(right))


def _divide(a: float, b: float) -> float:
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _power(a: float, b: float) -> float:
    """Go's math.Pow, which answers Inf or NaN where Python's raises."""
    odd_integer = b.is_integer() and abs(b) < 2**53 and int(b) % 2 == 1
    try:
        return math.pow(a, b)
    except OverflowError:
        return -math.inf if a < 0 and odd_integer else math.inf
    except ValueError:
        if a == 0:
            return math.copysign(math.inf, a) if odd_integer else math.inf
        return math.nan
