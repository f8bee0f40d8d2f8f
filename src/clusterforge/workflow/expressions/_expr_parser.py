"""Syntax of the ``{{=…}}`` expression language: a Pratt parser into a small tree.

Operator precedence and associativity are expr-lang's
(parser/operator/operator.go), loosest first::

    c ? a : b                       conditional (right-nested)
    ||  or                          10
    &&  and                         15
    == != < > <= >= in matches
    contains startsWith endsWith    20 (chained: a < b < c is a < b && b < c)
    + -                             30
    ! not (prefix)                  50
    * / %                           60
    - + (prefix)                    90
    ** ^                            100, right-associative
    ??                              500
    .name  [index]  f(…)            postfix

Function names are checked here, not at run time: an unknown function, a
sprig function outside the supported subset, or a wrong number of arguments is
a syntax error with the function's position, so validation catches it before
anything runs. Closures (``filter(list, {# > 1})``, ``#`` the element and
``.field`` short for ``#.field``) are supported for ``map``, ``filter``,
``all``, ``any``, ``none``, ``one`` and ``count``; ranges ``1..3`` and slices
``x[1:3]`` too. Pipes, ``let`` and the other closure functions (``reduce``,
``sortBy``, …) are not supported and say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import MAX_DEPTH
from ._expr_functions import FUNCTIONS, SPRIG_FUNCTIONS
from ._expr_lexer import LexError, Token, tokenize

__all__ = [
    "CLOSURE_FUNCTIONS",
    "Binary",
    "Call",
    "Closure",
    "ListNode",
    "Literal",
    "MapNode",
    "Member",
    "Name",
    "Node",
    "ParseError",
    "Pointer",
    "Slice",
    "Ternary",
    "Unary",
    "parse_expr",
    "variable_paths",
]

_BINARY = {
    "||": 10,
    "or": 10,
    "&&": 15,
    "and": 15,
    "==": 20,
    "!=": 20,
    "<": 20,
    ">": 20,
    "<=": 20,
    ">=": 20,
    "in": 20,
    "matches": 20,
    "contains": 20,
    "startsWith": 20,
    "endsWith": 20,
    "..": 25,
    "+": 30,
    "-": 30,
    "*": 60,
    "/": 60,
    "%": 60,
    "**": 100,
    "^": 100,
    "??": 500,
}
_RIGHT_ASSOCIATIVE = frozenset({"**", "^"})
_COMPARISON = 20
_UNARY = {"!": 50, "not": 50, "-": 90, "+": 90}
_NEGATABLE = frozenset({"in", "matches", "contains", "startsWith", "endsWith"})
CLOSURE_FUNCTIONS = frozenset({"all", "any", "none", "one", "filter", "map", "count"})
"""Functions whose second argument is a closure, and which the evaluator runs."""
_UNSUPPORTED_CLOSURE_FUNCTIONS = frozenset(
    {
        "all",
        "any",
        "none",
        "one",
        "filter",
        "map",
        "count",
        "sum",
        "find",
        "findIndex",
        "findLast",
        "findLastIndex",
        "groupBy",
        "sortBy",
        "reduce",
    }
)
_UNSUPPORTED_OPERATORS = {
    "|": "the pipe operator '|' is not supported",
    "#": "'#' is only meaningful inside a closure: filter(list, {# > 1})",
    ";": "';' (let bindings) is not supported",
    "=": "'=' is not an operator here; compare with '=='",
}


class ParseError(Exception):
    """A syntax error at ``position`` (an offset into the expression)."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Node:
    position: int
    depth: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: object


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Member(Node):
    """``obj.key`` or ``obj[key]``; ``position`` is where the whole chain starts."""

    obj: Node
    key: Node
    optional: bool


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str  # "asInt", or "sprig.upper"
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Pointer(Node):
    """``#`` inside a closure: the element the closure is applied to."""


@dataclass(frozen=True, slots=True)
class Closure(Node):
    """``{body}`` as the second argument of ``map``, ``filter``, …"""

    body: Node


@dataclass(frozen=True, slots=True)
class Slice(Node):
    """``obj[low:high]``; either bound may be absent."""

    obj: Node
    low: Node | None
    high: Node | None


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """``left op right``; ``position`` is the operator's. ``negated`` for ``not in`` and kin."""

    op: str
    left: Node
    right: Node
    negated: bool


@dataclass(frozen=True, slots=True)
class Ternary(Node):
    cond: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class ListNode(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapNode(Node):
    pairs: tuple[tuple[Node, Node], ...]


def parse_expr(source: str) -> Node:
    """Parse one expression; ``ParseError`` (with an offset into ``source``) if it is not one."""
    try:
        tokens = tokenize(source)
    except LexError as exc:
        raise ParseError(exc.position, exc.reason) from None
    return _Parser(tokens).parse()


def variable_paths(node: Node) -> list[str]:
    """Dotted names the expression reads, in source order, each once.

    ``inputs.parameters['my-param']`` is ``inputs.parameters.my-param``: an
    index with a constant string continues the dotted name. A computed index
    ends it (``a.b[x]`` reads ``a.b`` and ``x``).
    """
    found: dict[str, None] = {}
    _collect(node, found)
    return list(found)


def static_path(node: Node) -> str | None:
    """The dotted name a ``Name``/``Member`` chain spells, or None if part of it is computed."""
    if isinstance(node, Name):
        return node.name
    if (
        isinstance(node, Member)
        and isinstance(node.key, Literal)
        and isinstance(node.key.value, str)
    ):
        base = static_path(node.obj)
        return None if base is None else f"{base}.{node.key.value}"
    return None


def _collect(node: Node, found: dict[str, None]) -> None:
    path = static_path(node)
    if path is not None:
        found.setdefault(path, None)
        return
    if isinstance(node, Member):
        _collect(node.obj, found)
        _collect(node.key, found)
    elif isinstance(node, Call):
        for arg in node.args:
            _collect(arg, found)
    elif isinstance(node, Closure):
        _collect(node.body, found)
    elif isinstance(node, Slice):
        for part in (node.obj, node.low, node.high):
            if part is not None:
                _collect(part, found)
    elif isinstance(node, Unary):
        _collect(node.operand, found)
    elif isinstance(node, Binary):
        _collect(node.left, found)
        _collect(node.right, found)
    elif isinstance(node, Ternary):
        for child in (node.cond, node.then, node.otherwise):
            _collect(child, found)
    elif isinstance(node, ListNode):
        for item in node.items:
            _collect(item, found)
    elif isinstance(node, MapNode):
        for key, value in node.pairs:
            _collect(key, found)
            _collect(value, found)


def _depth(*children: Node) -> int:
    return 1 + max((child.depth for child in children), default=0)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.nesting = 0
        self.closures = 0  # how many closure bodies enclose the current token

    # -- token stream --------------------------------------------------------

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def peek(self) -> Token:
        return self.tokens[min(self.index + 1, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def is_op(self, *values: str) -> bool:
        return self.current.kind == "op" and self.current.text in values

    def expect(self, value: str) -> Token:
        if self.is_op(value):
            return self.advance()
        token = self.current
        if token.kind == "eof":
            raise ParseError(token.position, f"missing '{value}'")
        raise ParseError(token.position, f"expected '{value}' but found {_describe(token)}")

    def unclosed(self, closer: str) -> None:
        if self.current.kind == "eof":
            raise ParseError(self.current.position, f"missing '{closer}'")

    def node_depth(self, position: int, *children: Node) -> int:
        depth = _depth(*children)
        if depth > MAX_DEPTH:
            raise ParseError(position, f"expression is nested too deeply (over {MAX_DEPTH} levels)")
        return depth

    # -- grammar --------------------------------------------------------------

    def parse(self) -> Node:
        if self.current.kind == "eof":
            raise ParseError(self.current.position, "empty expression")
        node = self.expression(0)
        token = self.tokens[self.index]
        if token.kind != "eof":
            reason = _UNSUPPORTED_OPERATORS.get(token.text) if token.kind == "op" else None
            raise ParseError(token.position, reason or f"unexpected {_describe(token)}")
        return node

    def expression(self, min_precedence: int) -> Node:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise ParseError(
                self.current.position, f"expression is nested too deeply (over {MAX_DEPTH} levels)"
            )
        try:
            left = self.unary()
            while True:
                token = self.current
                if token.kind != "op":
                    break
                negated = False
                op = token.text
                if op == "not" and self.peek().kind == "op" and self.peek().text in _NEGATABLE:
                    negated = True
                    op = self.peek().text
                elif op == "not":
                    raise ParseError(
                        self.peek().position, f"unexpected {_describe(self.peek())} after 'not'"
                    )
                precedence = _BINARY.get(op)
                if precedence is None or precedence < min_precedence:
                    break
                self.advance()
                if negated:
                    self.advance()
                if precedence == _COMPARISON:
                    left = self.comparison(left, token, op, negated)
                    continue
                next_min = precedence if op in _RIGHT_ASSOCIATIVE else precedence + 1
                right = self.expression(next_min)
                left = Binary(
                    token.position,
                    self.node_depth(token.position, left, right),
                    op,
                    left,
                    right,
                    False,
                )
            if min_precedence == 0:
                left = self.conditional(left)
            return left
        finally:
            self.nesting -= 1

    def comparison(self, left: Node, token: Token, op: str, negated: bool) -> Node:
        root: Node | None = None
        while True:
            right = self.expression(_COMPARISON + 1)
            node: Node = Binary(
                token.position,
                self.node_depth(token.position, left, right),
                op,
                left,
                right,
                negated,
            )
            if root is not None:
                node = Binary(
                    token.position,
                    self.node_depth(token.position, root, node),
                    "&&",
                    root,
                    node,
                    False,
                )
            root = node
            left = right
            token = self.current
            if not (token.kind == "op" and _BINARY.get(token.text) == _COMPARISON):
                return root
            op, negated = token.text, False
            self.advance()

    def conditional(self, cond: Node) -> Node:
        while self.is_op("?"):
            question = self.advance()
            if self.is_op(":"):
                self.advance()
                then = cond
            else:
                then = self.expression(0)
                self.expect(":")
            otherwise = self.expression(0)
            cond = Ternary(
                question.position,
                self.node_depth(question.position, cond, then, otherwise),
                cond,
                then,
                otherwise,
            )
        return cond

    def unary(self) -> Node:
        token = self.current
        if token.kind == "op" and token.text in _UNARY:
            self.advance()
            operand = self.expression(_UNARY[token.text])
            node: Node = Unary(
                token.position, self.node_depth(token.position, operand), token.text, operand
            )
            return self.postfix(node)
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind in ("int", "float", "string"):
            self.advance()
            return self.postfix(Literal(token.position, 1, token.value))
        if self.closures and token.kind == "op" and token.text in ("#", "."):
            if token.text == "#":
                self.advance()
            return self.postfix(Pointer(token.position, 1))  # `.field` is `#.field`
        if token.kind == "ident":
            self.advance()
            if token.text in ("true", "false", "nil"):
                return Literal(
                    token.position, 1, {"true": True, "false": False, "nil": None}[token.text]
                )
            if self.is_op("("):
                return self.postfix(self.call(token, token.text, FUNCTIONS))
            return self.postfix(Name(token.position, 1, token.text))
        if self.is_op("("):
            self.advance()
            inner = self.expression(0)
            self.expect(")")
            return self.postfix(inner)
        if self.is_op("["):
            return self.postfix(self.list_literal())
        if self.is_op("{"):
            return self.postfix(self.map_literal())
        if token.kind == "eof":
            raise ParseError(token.position, "unexpected end of expression")
        if token.kind == "op" and token.text in _UNSUPPORTED_OPERATORS:
            raise ParseError(token.position, _UNSUPPORTED_OPERATORS[token.text])
        raise ParseError(token.position, f"unexpected {_describe(token)}")

    def call(
        self, name_token: Token, name: str, table: dict[str, tuple[int, int]], prefix: str = ""
    ) -> Node:
        if not prefix and name in CLOSURE_FUNCTIONS:
            return self.closure_call(name_token, name)
        if name not in table:
            raise ParseError(name_token.position, _unknown_function(prefix + name))
        self.expect("(")
        args: list[Node] = []
        while not self.is_op(")"):
            self.unclosed(")")
            if args:
                self.expect(",")
                if self.is_op(")"):
                    break
            args.append(self.expression(0))
        self.expect(")")
        low, high = table[name]
        if not low <= len(args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise ParseError(
                name_token.position, f"{prefix}{name}() takes {wanted} argument(s), got {len(args)}"
            )
        depth = self.node_depth(name_token.position, *args)
        return Call(name_token.position, depth, prefix + name, tuple(args))

    def closure_call(self, name_token: Token, name: str) -> Node:
        """``name(list, {body})``: the list, then a closure over its elements."""
        self.expect("(")
        subject = self.expression(0)
        self.expect(",")
        if not self.is_op("{"):
            raise ParseError(
                self.current.position,
                f"{name}() takes a closure as its second argument: {name}(list, {{# …}})",
            )
        opened = self.advance()
        self.closures += 1
        try:
            body = self.expression(0)
        finally:
            self.closures -= 1
        self.unclosed("}")
        self.expect("}")
        self.expect(")")
        closure = Closure(opened.position, self.node_depth(opened.position, body), body)
        depth = self.node_depth(name_token.position, subject, closure)
        return Call(name_token.position, depth, name, (subject, closure))

    def list_literal(self) -> Node:
        opened = self.advance()
        items: list[Node] = []
        while not self.is_op("]"):
            self.unclosed("]")
            if items:
                self.expect(",")
                if self.is_op("]"):
                    break
            items.append(self.expression(0))
        self.expect("]")
        return ListNode(opened.position, self.node_depth(opened.position, *items), tuple(items))

    def map_literal(self) -> Node:
        opened = self.advance()
        pairs: list[tuple[Node, Node]] = []
        children: list[Node] = []
        while not self.is_op("}"):
            self.unclosed("}")
            if pairs:
                self.expect(",")
                if self.is_op("}"):
                    break
            token = self.current
            key: Node
            if token.kind in ("ident", "int", "float") or (
                token.kind == "op" and token.text.isalpha()
            ):
                self.advance()
                key = Literal(token.position, 1, token.text)
            elif token.kind == "string":
                self.advance()
                key = Literal(token.position, 1, token.value)
            elif self.is_op("("):
                key = self.expression(0)
            else:
                raise ParseError(
                    token.position,
                    "a map key must be a name, a quoted string, a number "
                    "or a parenthesised expression",
                )
            self.expect(":")
            value = self.expression(0)
            pairs.append((key, value))
            children += [key, value]
        self.expect("}")
        return MapNode(opened.position, self.node_depth(opened.position, *children), tuple(pairs))

    def postfix(self, node: Node) -> Node:
        while self.current.kind == "op" and self.current.text in (".", "?.", "["):
            token = self.advance()
            optional = token.text == "?."
            if optional and self.is_op("["):
                token = self.advance()
            if token.text == "[":
                low = None if self.is_op(":") else self.expression(0)
                if low is None or self.is_op(":"):
                    node = self.slice(node, token, low)
                    continue
                key = low
                self.expect("]")
            else:
                name = self.current
                if not (name.kind == "ident" or (name.kind == "op" and name.text.isalpha())):
                    raise ParseError(name.position, f"expected a name after '{token.text}'")
                self.advance()
                if self.is_op("("):
                    if isinstance(node, Name) and node.name == "sprig" and not optional:
                        node = self.call(name, name.text, SPRIG_FUNCTIONS, prefix="sprig.")
                        continue
                    raise ParseError(
                        name.position, f"method calls ('.{name.text}(…)') are not supported"
                    )
                key = Literal(name.position, 1, name.text)
            node = Member(
                node.position, self.node_depth(token.position, node, key), node, key, optional
            )
        return node

    def slice(self, node: Node, opened: Token, low: Node | None) -> Node:
        """``node[low:high]`` once the ``:`` is next."""
        self.advance()
        high = None if self.is_op("]") else self.expression(0)
        self.unclosed("]")
        self.expect("]")
        parts = [p for p in (node, low, high) if p is not None]
        return Slice(node.position, self.node_depth(opened.position, *parts), node, low, high)


def _describe(token: Token) -> str:
    if token.kind == "eof":
        return "end of expression"
    return f"'{token.text}'"


def _unknown_function(name: str) -> str:
    if name.startswith("sprig."):
        supported = ", ".join(f"sprig.{n}" for n in sorted(SPRIG_FUNCTIONS))
        return f"unsupported sprig function '{name}' (supported: {supported})"
    if name in _UNSUPPORTED_CLOSURE_FUNCTIONS:
        return f"function '{name}' takes a closure, which is not supported"
    supported = ", ".join(sorted(FUNCTIONS))
    return f"unknown function '{name}' (supported: {supported})"
