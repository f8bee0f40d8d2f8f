"""Filter (``[?(…)]``) and script (``[(…)]``) expressions of a JSONPath, as Argo reads them.

Argo's JSONPath library (evilmonkeyinc/jsonpath, "standard" script engine)
evaluates a small expression language over ``@`` (the item) and ``$`` (the
document): ``|| && !``, ``== != < <= > >=``, ``=~`` (a Go regular expression,
matched anywhere), ``+ - * / %``, parentheses, numbers, quoted strings,
``true``/``false``/``null``/``nil``. Its semantics, kept here:

* ``==`` / ``!=`` compare like kinds only — the number 2 is not the string "2";
* ``<`` ``<=`` ``>`` ``>=`` and arithmetic take numbers only;
* an item whose expression fails (a missing key, a string compared with ``<``)
  is left out rather than failing the query — even when the failing side of an
  ``||`` or ``&&`` would not decide it (both sides are always evaluated);
* an item is kept when the result is true, a non-empty string, list or object,
  or a non-zero number.

Refused by name, rather than half-supported: ``in`` / ``not in``, ``**`` and
list literals. Regular expressions go through RE2 (:mod:`._re2`), nesting is
capped at :data:`MAX_NESTING`, and every evaluation spends from the query's
:class:`Budget`, so no filter costs more than the budget allows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ._re2 import RegexError, compile_go_regex

__all__ = [
    "MAX_BRACKETS",
    "MAX_NESTING",
    "Budget",
    "BudgetExceeded",
    "Filter",
    "JsonPathError",
    "Operand",
    "compile_filter",
    "scan_to",
    "truthy",
]

MAX_NESTING = 64
MAX_BRACKETS = 16


class JsonPathError(ValueError):
    """The path cannot be read, or does not lead to a value; the message says why."""


class BudgetExceeded(JsonPathError):
    """The query visited more values than one query may."""


class Budget:
    """How many more values one query may visit; spending past zero raises."""

    def __init__(self, steps: int) -> None:
        self.limit = steps
        self.left = steps

    def spend(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise BudgetExceeded(
                f"the path visits more than {self.limit:,} values; "
                "select less (fewer '..' or filters)"
            )


# A compiled path inside a filter: (root, current, budget) -> value.
Operand = Callable[[object, object, Budget], object]
PathCompiler = Callable[[str], Operand]


def truthy(value: object) -> bool:
    """Whether a filter keeps the item its expression gave ``value`` for."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, list | Mapping):
        return len(value) > 0
    if isinstance(value, str):
        if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        return value != ""
    if isinstance(value, int | float):
        return value != 0
    return True


class Filter:
    """A compiled filter or script expression."""

    def __init__(self, node: _Node) -> None:
        self._node = node

    def evaluate(self, root: object, current: object, budget: Budget) -> object:
        """The expression's value; ``JsonPathError`` when it cannot be computed."""
        return self._node(root, current, budget)

    def test(self, root: object, current: object, budget: Budget) -> object:
        """The value for a filter: ``None`` (item left out) when it cannot be computed."""
        try:
            return self._node(root, current, budget)
        except BudgetExceeded:
            raise
        except JsonPathError:
            return None


_Node = Callable[[object, object, Budget], object]

_TOKEN = re.compile(
    r"""\s*(?:(?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"""
    r"""|(?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
    r"""|(?P<op>\*\*|\|\||&&|==|!=|<=|>=|=~|[<>!+\-*/%()\[\],])"""
    r"""|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"""
    r"""|(?P<path>[@$]))"""
)
_PATH_END = set(" \t\n=!<>+-*/%&|),")
_WORDS: dict[str, object] = {"true": True, "false": False, "null": None, "nil": None}


@dataclass
class _Tok:
    kind: str
    text: str
    at: int


def compile_filter(text: str, paths: PathCompiler) -> Filter:
    """Compile a filter/script expression; ``JsonPathError`` names what is refused and where."""
    parser = _Parser(_tokens(text), text, paths)
    node = parser.expression(0)
    if parser.peek() is not None:
        tok = parser.peek()
        assert tok is not None
        raise JsonPathError(_refusal(tok, text))
    return Filter(node)


def _tokens(text: str) -> list[_Tok]:
    found: list[_Tok] = []
    at = 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if match is None or match.lastgroup is None:
            raise JsonPathError(f"cannot read filter {text!r} from offset {at}")
        kind = match.lastgroup
        start = match.start(kind)
        if kind == "path":
            end = _path_end(text, start)
            found.append(_Tok("path", text[start:end], start))
            at = end
            continue
        found.append(_Tok(kind, match.group(kind), start))
        at = match.end()
    return found


def _path_end(text: str, start: int) -> int:
    """Where the embedded path starting at ``start`` ends (brackets and quotes respected)."""
    return scan_to(text, start, _PATH_END)


def scan_to(text: str, start: int, stops: str | set[str]) -> int:
    """The index of the first character in ``stops``, or of the first ``]``/``)`` that
    closes nothing, outside quotes and brackets (``len(text)`` when there is none).
    Brackets nested deeper than :data:`MAX_BRACKETS` are refused."""
    depth, quote, i = 0, "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
            if depth > MAX_BRACKETS:
                raise JsonPathError(f"brackets nest more than {MAX_BRACKETS} levels deep")
        elif ch in "])":
            if depth == 0:
                return i
            depth -= 1
        elif depth == 0 and ch in stops:
            return i
        i += 1
    return i


_BINARY: dict[str, int] = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 3,
    "<=": 3,
    ">": 3,
    ">=": 3,
    "=~": 3,
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
}


class _Parser:
    """Precedence climbing over the tokens; nesting capped at :data:`MAX_NESTING`."""

    def __init__(self, tokens: list[_Tok], text: str, paths: PathCompiler) -> None:
        self.tokens = tokens
        self.position = 0
        self.text = text
        self.paths = paths
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise JsonPathError(f"filter {self.text!r} ends too early")
        self.position += 1
        return tok

    def expression(self, floor: int) -> _Node:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise JsonPathError(f"filter {self.text!r} nests more than {MAX_NESTING} levels")
        left = self.unary()
        while (tok := self.peek()) is not None and _BINARY.get(tok.text, 0) > floor:
            self.position += 1
            if tok.text == "=~":
                self.check_pattern()
            right = self.expression(_BINARY[tok.text])
            left = _binary(tok, left, right, self.text)
        self.depth -= 1
        return left

    def check_pattern(self) -> None:
        """A quoted pattern after ``=~`` is compiled now, so a bad one is an error, not a miss."""
        tok = self.peek()
        if tok is not None and tok.kind == "string":
            try:
                compile_go_regex(_unquote(tok.text))
            except RegexError as exc:
                raise JsonPathError(f"{exc} (filter {self.text!r})") from None

    def unary(self) -> _Node:
        tok = self.take()
        if tok.text in ("!", "-"):
            self.depth += 1
            operand = self.unary()
            self.depth -= 1
            return _negate(operand) if tok.text == "!" else _minus(operand)
        if tok.text == "(":
            inner = self.expression(0)
            if self.take().text != ")":
                raise JsonPathError(f"a '(' is never closed in filter {self.text!r}")
            return inner
        return self.primary(tok)

    def primary(self, tok: _Tok) -> _Node:
        if tok.kind == "number":
            number = float(tok.text)
            return lambda root, current, budget: number
        if tok.kind == "string":
            literal = _unquote(tok.text)
            return lambda root, current, budget: literal
        if tok.kind == "path":
            return self.paths(tok.text)
        if tok.kind == "word" and tok.text in _WORDS:
            constant = _WORDS[tok.text]
            return lambda root, current, budget: constant
        raise JsonPathError(_refusal(tok, self.text))


def _refusal(tok: _Tok, text: str) -> str:
    where = f"at offset {tok.at} of filter {text!r}"
    if tok.text in ("in", "not"):
        return f"'in' / 'not in' are not supported ({where}); compare with == joined by ||"
    if tok.text == "[":
        return f"list literals are not supported ({where})"
    if tok.text == "**":
        return f"'**' is not supported ({where}); multiply instead"
    return f"unexpected {tok.text!r} {where}"


def _unquote(text: str) -> str:
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            i += 1
        out.append(body[i])
        i += 1
    return "".join(out)


def _negate(operand: _Node) -> _Node:
    return lambda root, current, budget: not truthy(operand(root, current, budget))


def _minus(operand: _Node) -> _Node:
    def run(root: object, current: object, budget: Budget) -> object:
        return -_number(operand(root, current, budget), "-")

    return run


def _binary(tok: _Tok, left: _Node, right: _Node, text: str) -> _Node:
    op = tok.text
    if op == "**":
        raise JsonPathError(_refusal(tok, text))
    if op == "=~":
        return _regex(left, right)
    if op in ("&&", "||"):
        # Both sides are always evaluated, as Argo's library does: an error on
        # either side leaves the item out even when the other side decides.
        both = all if op == "&&" else any

        def logic(root: object, current: object, budget: Budget) -> object:
            sides = (truthy(left(root, current, budget)), truthy(right(root, current, budget)))
            return both(sides)

        return logic
    combine = _OPERATIONS[op]

    def run(root: object, current: object, budget: Budget) -> object:
        budget.spend(1)
        return combine(left(root, current, budget), right(root, current, budget))

    return run


def _regex(left: _Node, right: _Node) -> _Node:
    def run(root: object, current: object, budget: Budget) -> object:
        subject, pattern = left(root, current, budget), right(root, current, budget)
        if not isinstance(subject, str) or not isinstance(pattern, str):
            raise JsonPathError("=~ takes a string and a pattern")
        try:
            return compile_go_regex(pattern).search(subject) is not None
        except RegexError as exc:
            raise JsonPathError(str(exc)) from None

    return run


def _number(value: object, op: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise JsonPathError(f"{op} takes numbers")
    return float(value)


def _equal(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return a == b


def _divide(a: object, b: object) -> float:
    divisor = _number(b, "/")
    if divisor == 0:
        raise JsonPathError("division by zero")
    return _number(a, "/") / divisor


def _modulo(a: object, b: object) -> float:
    left, right = _number(a, "%"), _number(b, "%")
    if not left.is_integer() or not right.is_integer() or right == 0:
        raise JsonPathError("% takes integers and a non-zero divisor")
    # Go's % truncates toward zero: the remainder takes the dividend's sign.
    remainder = abs(int(left)) % abs(int(right))
    return float(-remainder if left < 0 else remainder)


_OPERATIONS: dict[str, Callable[[object, object], object]] = {
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    "<": lambda a, b: _number(a, "<") < _number(b, "<"),
    "<=": lambda a, b: _number(a, "<=") <= _number(b, "<="),
    ">": lambda a, b: _number(a, ">") > _number(b, ">"),
    ">=": lambda a, b: _number(a, ">=") >= _number(b, ">="),
    "+": lambda a, b: _number(a, "+") + _number(b, "+"),
    "-": lambda a, b: _number(a, "-") - _number(b, "-"),
    "*": lambda a, b: _number(a, "*") * _number(b, "*"),
    "/": _divide,
    "%": _modulo,
}
