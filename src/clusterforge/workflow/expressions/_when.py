"""``when``: Argo's step and task conditions, in govaluate's dialect.

Argo substitutes the ``{{…}}`` tags of a ``when`` first and then hands the
text to govaluate, with every bare word turned into a string
(workflow/controller/operator.go ``shouldExecute``). So after substitution
``none == none`` is true, ``heads =~ 'h.*'`` matches, and ``5 > 3`` compares
numbers. Two entry points mirror the two moments:

* :func:`check_when` runs *before* substitution (validation): tags are
  opaque operands, everything else must be well-formed, and ``{{=…}}`` tags
  inside must parse;
* :func:`evaluate_when` runs *after* substitution and answers the boolean.

Semantics are govaluate's (evaluationStage.go): numbers are float64;
``==`` needs equal type and value (``5 == '5'`` is false); ``< > <= >=``
compare two numbers or two strings (byte order); ``=~``/``!~`` search a
string with a Go regular expression; ``+`` adds numbers or, with a string on
either side, concatenates; ``&&``/``||`` want booleans and short-circuit;
``(a, b)`` is a list for ``in``; ``c ? a : b`` and ``a ?? b`` work as in
govaluate. Precedence, loosest first: ``,`` < ``? : ??`` < ``||`` < ``&&`` <
comparators < ``& | ^`` < ``<< >>`` < ``+ -`` < ``* / %`` < ``**`` < prefix
``- ! ~``, all left-associative; a prefix applies to the single operand after
it, so ``!a == b`` is ``(!a) == b``.

Where govaluate would silently do something surprising, this is stricter and
says why: tokens left over after a complete expression (govaluate ignores
them), empty parentheses, and dotted bare words (``v1.2`` — a govaluate
*accessor*, which fails on Argo at run time) are errors pointing at the token.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clusterforge.safety import Pattern

from ._errors import MAX_DEPTH, ExpressionError
from ._gofmt import go_value
from ._re2 import RegexError, compile_go_regex
from ._templates import check_expression_tags
from ._when_lexer import Kind, LexError, Token, check_sequence, tokenize

__all__ = ["check_when", "evaluate_when"]

_LANGUAGE = "when expression"

_BINDING = {
    ",": 1,
    "?": 2,
    ":": 2,
    "??": 2,
    "||": 3,
    "&&": 4,
    "==": 5,
    "!=": 5,
    ">": 5,
    ">=": 5,
    "<": 5,
    "<=": 5,
    "=~": 5,
    "!~": 5,
    "in": 5,
    "&": 6,
    "|": 6,
    "^": 6,
    "<<": 7,
    ">>": 7,
    "+": 8,
    "-": 8,
    "*": 9,
    "/": 9,
    "%": 9,
    "**": 10,
}
_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_BINARY_KINDS = frozenset(
    {Kind.SEPARATOR, Kind.TERNARY, Kind.LOGICALOP, Kind.COMPARATOR, Kind.MODIFIER}
)


class _Error(Exception):
    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Node:
    position: int
    depth: int


@dataclass(frozen=True, slots=True)
class _Value(_Node):
    value: object


@dataclass(frozen=True, slots=True)
class _Opaque(_Node):
    text: str


@dataclass(frozen=True, slots=True)
class _Unary(_Node):
    op: str
    operand: _Node


@dataclass(frozen=True, slots=True)
class _Binary(_Node):
    op: str
    left: _Node
    right: _Node


def check_when(text: str) -> None:
    """Check a ``when`` before substitution; raises :class:`ExpressionError` if it can never work.

    ``{{…}}`` tags are opaque operands (with any word characters glued to
    them); ``{{=…}}`` tags must be valid expressions. An empty ``when`` is fine.
    """
    if text == "":
        return
    try:
        tokens = tokenize(text, tags=True)
        check_sequence(tokens, len(text))
        _Parser(tokens, len(text)).parse()
    except (LexError, _Error) as exc:
        raise ExpressionError(text, exc.position, exc.reason, language=_LANGUAGE) from None
    check_expression_tags(text, language=_LANGUAGE)


@functools.lru_cache(maxsize=4096)
def evaluate_when(text: str) -> bool:
    """Evaluate a substituted ``when`` as Argo does; an empty one is true.

    Raises :class:`ExpressionError` for a syntax error, a type error (``a > 1``
    compares a string with a number) or a result that is not a boolean.
    Cached by text: a fleet of builds of one template asks the same questions.
    """
    if text == "":
        return True
    try:
        tokens = tokenize(text)
        check_sequence(tokens, len(text))
        tree = _Parser(tokens, len(text)).parse()
        result = _evaluate(tree)
    except (LexError, _Error) as exc:
        raise ExpressionError(text, exc.position, exc.reason, language=_LANGUAGE) from None
    if not isinstance(result, bool):
        raise ExpressionError(
            text, 0, f"the result is {_shown(result)}, not a boolean", language=_LANGUAGE
        )
    return result


# -- parsing -------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[Token], length: int) -> None:
        self.tokens = tokens
        self.length = length
        self.index = 0
        self.nesting = 0

    @property
    def current(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def parse(self) -> _Node:
        if not self.tokens:
            raise _Error(self.length, "empty expression")
        node = self.expression(0)
        token = self.current
        if token is not None:
            raise _Error(
                token.position,
                f"unexpected '{token.text}' after a complete expression "
                "(add an operator, or remove it)",
            )
        return node

    def depth(self, position: int, *children: _Node) -> int:
        depth = 1 + max((child.depth for child in children), default=0)
        if depth > MAX_DEPTH:
            raise _Error(position, f"expression is nested too deeply (over {MAX_DEPTH} levels)")
        return depth

    def expression(self, min_binding: int) -> _Node:
        self.nesting += 1
        try:
            if self.nesting > MAX_DEPTH:
                position = self.current.position if self.current else self.length
                raise _Error(position, f"expression is nested too deeply (over {MAX_DEPTH} levels)")
            left = self.unary()
            while True:
                token = self.current
                if token is None or token.kind not in _BINARY_KINDS:
                    return left
                op = str(token.value)
                binding = _BINDING[op]
                if binding < min_binding:
                    return left
                self.index += 1
                right = self.expression(binding + 1)
                if (
                    op in ("=~", "!~")
                    and isinstance(right, _Value)
                    and isinstance(right.value, str)
                ):
                    _regex(right.value, right.position)
                left = _Binary(
                    token.position, self.depth(token.position, left, right), op, left, right
                )
        finally:
            self.nesting -= 1

    def unary(self) -> _Node:
        token = self.current
        if token is not None and token.kind is Kind.PREFIX:
            self.index += 1
            operand = self.primary()
            return _Unary(
                token.position, self.depth(token.position, operand), str(token.value), operand
            )
        return self.primary()

    def primary(self) -> _Node:
        token = self.current
        if token is None:
            raise _Error(self.length, "unexpected end of expression")
        self.index += 1
        if token.kind is Kind.CLAUSE:
            following = self.current
            if following is not None and following.kind is Kind.CLAUSE_CLOSE:
                raise _Error(token.position, "empty parentheses")
            inner = self.expression(0)
            closing = self.current
            if closing is None or closing.kind is not Kind.CLAUSE_CLOSE:
                if closing is None:
                    raise _Error(self.length, "missing ')'")
                raise _Error(closing.position, f"expected ')' but found '{closing.text}'")
            self.index += 1
            return inner
        if token.kind in (Kind.NUMERIC, Kind.STRING, Kind.BOOLEAN, Kind.TIME, Kind.VARIABLE):
            return _Value(token.position, 1, token.value)
        if token.kind is Kind.OPAQUE:
            return _Opaque(token.position, 1, token.text)
        if token.kind is Kind.ACCESSOR:
            raise _Error(
                token.position,
                f"the bare word '{token.text}' contains '.', which govaluate reads as a parameter "
                f"accessor that Argo cannot evaluate; quote it: '{token.text}'",
            )
        raise _Error(token.position, f"unexpected {token.kind.value} '{token.text}'")


def _regex(pattern: str, position: int) -> Pattern:
    try:
        return compile_go_regex(pattern)
    except RegexError as exc:
        raise _Error(position, str(exc)) from None


# -- evaluation -----------------------------------------------------------------


def _shown(value: object) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return f"the boolean {go_value(value)}"
    if isinstance(value, float):
        return f"the number {go_value(value)}"
    if isinstance(value, str):
        return f"the string '{value}'"
    return f"the list {go_value(value)}"


def _evaluate(node: _Node) -> object:
    if isinstance(node, _Value):
        return node.value
    if isinstance(node, _Unary):
        return _unary(node, _evaluate(node.operand))
    if isinstance(node, _Binary):
        return _binary(node)
    raise _Error(node.position, "an unsubstituted tag cannot be evaluated")


def _unary(node: _Unary, value: object) -> object:
    if node.op == "!":
        if not isinstance(value, bool):
            raise _Error(node.position, f"'!' needs a boolean, not {_shown(value)}")
        return not value
    if not isinstance(value, float):
        raise _Error(node.position, f"'{node.op}' needs a number, not {_shown(value)}")
    if node.op == "-":
        return -value
    return float(~_int64(value))


def _int64(value: float) -> int:
    return ((int(value) + 2**63) % 2**64) - 2**63


def _binary(node: _Binary) -> object:
    op = node.op
    left = _evaluate(node.left)
    if op in ("&&", "||"):
        if left is (op == "||"):
            return left
        right = _evaluate(node.right)
        for side, value in (("left", left), ("right", right)):
            if not isinstance(value, bool):
                raise _Error(
                    node.position, f"'{op}' needs booleans, not {_shown(value)} on its {side}"
                )
        return right
    if op == "?":
        if not isinstance(left, bool):
            raise _Error(
                node.position, f"the condition before '?' must be a boolean, not {_shown(left)}"
            )
        return _evaluate(node.right) if left else None
    if op in (":", "??"):
        return left if left is not None else _evaluate(node.right)
    right = _evaluate(node.right)
    if op == ",":
        return [*left, right] if isinstance(left, list) else [left, right]
    if op in ("==", "!="):
        same = type(left) is type(right) and left == right
        return same if op == "==" else not same
    if op in (">", ">=", "<", "<="):
        return _compare(node, left, right)
    if op in ("=~", "!~"):
        if not isinstance(left, str) or not isinstance(right, str):
            raise _Error(
                node.position,
                f"'{op}' needs a string on each side, not {_shown(left)} and {_shown(right)}",
            )
        found = _regex(right, node.right.position).search(left) is not None
        return found if op == "=~" else not found
    if op == "in":
        if not isinstance(right, list):
            raise _Error(
                node.position, f"'in' needs a list such as (a, b) on its right, not {_shown(right)}"
            )
        return any(type(item) is type(left) and item == left for item in right)
    if op == "+" and (isinstance(left, str) or isinstance(right, str)):
        return go_value(left) + go_value(right)
    if not isinstance(left, float) or not isinstance(right, float):
        culprit = right if isinstance(left, float) else left
        hint = " (quote values that contain '-', e.g. 'my-addon')" if op == "-" else ""
        raise _Error(node.position, f"'{op}' needs numbers, not {_shown(culprit)}{hint}")
    return _arithmetic(op, left, right)


def _compare(node: _Binary, left: object, right: object) -> bool:
    if not (
        (isinstance(left, float) and isinstance(right, float))
        or (isinstance(left, str) and isinstance(right, str))
    ):
        raise _Error(
            node.position,
            f"'{node.op}' compares two numbers or two strings, "
            f"not {_shown(left)} and {_shown(right)}",
        )
    return bool(_ORDER[node.op](left, right))


def _arithmetic(op: str, a: float, b: float) -> float:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            return (
                math.nan
                if a == 0 or math.isnan(a)
                else math.copysign(math.inf, a) * math.copysign(1.0, b)
            )
        return a / b
    if op == "%":
        return math.nan if b == 0 else math.fmod(a, b)
    if op == "**":
        try:
            return math.pow(a, b)
        except OverflowError:
            return math.inf
        except ValueError:
            return math.inf if a == 0 else math.nan
    left, right = _int64(a), _int64(b)
    if op == "&":
        return float(left & right)
    if op == "|":
        return float(left | right)
    if op == "^":
        return float(left ^ right)
    mask = 2**64 - 1
    shift = right & mask
    if shift >= 64:
        return 0.0
    if op == "<<":
        return float(((left & mask) << shift) & mask)
    return float((left & mask) >> shift)
