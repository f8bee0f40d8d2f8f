"""A small, safe subset of Go's text/template, for sensor ``dataTemplate``s.

Argo Events renders ``dataTemplate`` with Go's text/template (plus sprig) over
``{"Input": <event data>}``: ``{{ .Input.body.cluster.name }}``. Sensors use a
handful of forms, and those are what this reads:

* actions ``{{ … }}`` with ``{{-``/``-}}`` trimming the whitespace beside them;
* a field chain from the root: ``.Input.body.a.b`` (map keys);
* literals: ``"double-quoted"`` (Go escapes), `` `raw` ``, numbers, ``true``,
  ``false``;
* function calls and pipelines: ``index .Input.body "my-key" 0``,
  ``.Input.body.name | upper``, ``default "dev" .Input.body.env``,
  with ``upper lower title trim quote squote toJson toString b64enc b64dec
  default index len print``.

Control structures (``if``, ``range``, ``with``, ``define``…), variables and
method calls are refused with :class:`TemplateError` when the sensor is
loaded; nothing is ever evaluated as Python. A missing key prints as Go prints
it — ``<no value>`` — which Argo Events treats as "no value" (the parameter
falls back to its ``dataKey`` or default), and so do we.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["NO_VALUE", "GoTemplate", "TemplateError", "go_print"]

NO_VALUE = "<no value>"
_MAX_OUTPUT = 1024 * 1024


class TemplateError(ValueError):
    """A template outside the supported subset, or one that fails to execute."""


class _Nil:
    pass


_NIL: Any = _Nil()

# -- printing values the way fmt's %v does ----------------------------------------


def _go_float(value: float) -> str:
    """``%v`` of a float64: shortest digits, exponent form below 1e-4 or from 1e21."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    scientific = len("".join(map(str, digit_tuple))) + exponent - 1
    prefix = "-" if sign else ""
    if scientific < -4 or scientific >= 21:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'+' if scientific >= 0 else '-'}{abs(scientific):02d}"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def go_print(value: Any) -> str:
    """A decoded JSON value as ``fmt.Sprint`` shows it (``map[a:1]``, ``[1 2]``)."""
    if value is _NIL or value is None:
        return NO_VALUE if value is _NIL else "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        inner = " ".join(f"{k}:{go_print(value[k])}" for k in sorted(value))
        return f"map[{inner}]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_print(v) for v in value) + "]"
    return str(value)


# -- functions ---------------------------------------------------------------------


def _to_string(value: Any) -> str:
    return "" if value is _NIL else go_print(value)


def _index(collection: Any, *keys: Any) -> Any:
    current = collection
    for key in keys:
        if isinstance(current, Mapping):
            current = current.get(key, _NIL) if isinstance(key, str) else _NIL
        elif isinstance(current, list):
            if not isinstance(key, int) or isinstance(key, bool):
                raise TemplateError(f"index: cannot index a list with {go_print(key)!r}")
            if not 0 <= key < len(current):
                raise TemplateError(f"index: index {key} out of range")
            current = current[key]
        elif current is _NIL or current is None:
            raise TemplateError("index: cannot index a missing value")
        else:
            raise TemplateError(f"index: cannot index {go_print(current)!r}")
    return current


def _empty(value: Any) -> bool:
    return value is _NIL or value is None or value in ("", 0, False) or value in ([], {})


def _default(fallback: Any, *given: Any) -> Any:
    if not given or _empty(given[0]):
        return fallback
    return given[0]


def _b64dec(value: Any) -> str:
    try:
        return base64.b64decode(_to_string(value), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        raise TemplateError("b64dec: not valid base64") from None


def _len(value: Any) -> int:
    if isinstance(value, str | list | dict):
        return len(value)
    raise TemplateError(f"len: {go_print(value)!r} has no length")


def _to_json(value: Any) -> str:
    return "null" if value is _NIL else json.dumps(value, separators=(",", ":"))


def _go_quote(value: Any) -> str:
    return json.dumps(_to_string(value), ensure_ascii=False)


_FUNCS: dict[str, Callable[..., Any]] = {
    "upper": lambda v: _to_string(v).upper(),
    "lower": lambda v: _to_string(v).lower(),
    "title": lambda v: re.sub(r"\b\w", lambda m: m.group(0).upper(), _to_string(v)),
    "trim": lambda v: _to_string(v).strip(),
    "quote": _go_quote,
    "squote": lambda v: "'" + _to_string(v) + "'",
    "toJson": _to_json,
    "toString": _to_string,
    "b64enc": lambda v: base64.b64encode(_to_string(v).encode()).decode(),
    "b64dec": _b64dec,
    "default": _default,
    "index": _index,
    "len": _len,
    "print": lambda *v: "".join(_to_string(x) for x in v),
}

# -- parsing -----------------------------------------------------------------------

_REFUSED = {"if", "else", "end", "range", "with", "define", "template", "block", "break",
            "continue", "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "call",
            "printf", "println", "html", "js", "urlquery", "slice"}  # fmt: skip
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
    | (?P<string>"(?:[^"\\\n]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<pipe>\|)
    | (?P<lparen>\()
    | (?P<rparen>\))
    | (?P<other>\S)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Field:
    keys: tuple[str, ...]


@dataclass(frozen=True)
class _Literal:
    value: Any


@dataclass(frozen=True)
class _Call:
    name: str
    args: tuple[Any, ...]


_Command = _Field | _Literal | _Call


def _unquote(text: str) -> str:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise TemplateError(f"cannot read the string {text}") from None
    if not isinstance(value, str):
        raise TemplateError(f"cannot read the string {text}")
    return value


class _Parser:
    def __init__(self, action: str) -> None:
        self.action = action
        self.tokens: list[tuple[str, str]] = []
        for match in _TOKEN.finditer(action):
            kind = match.lastgroup or "other"
            text = match.group(kind)
            if kind == "other":
                if text == "$":
                    raise TemplateError(f"{{{{{action}}}}}: variables ($…) are not supported")
                raise TemplateError(f"{{{{{action}}}}}: unexpected {text!r}")
            self.tokens.append((kind, text))
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise TemplateError(f"{{{{{self.action}}}}}: unexpected end of action")
        self.pos += 1
        return token

    def pipeline(self) -> list[_Command]:
        commands = [self.command()]
        while self.peek() is not None and self.peek() == ("pipe", "|"):
            self.next()
            commands.append(self.command())
        return commands

    def command(self) -> _Command:
        first = self.peek()
        if first is None:
            raise TemplateError(f"{{{{{self.action}}}}}: empty command")
        if first[0] == "ident":
            name = self.next()[1]
            if name in ("true", "false"):
                return _Literal(name == "true")
            if name == "nil":
                return _Literal(None)
            if name in _REFUSED:
                raise TemplateError(
                    f"{{{{{self.action}}}}}: {name!r} is not supported; dataTemplate supports "
                    "fields, literals, pipelines and the functions " + ", ".join(sorted(_FUNCS))
                )
            if name not in _FUNCS:
                raise TemplateError(f"{{{{{self.action}}}}}: function {name!r} is not defined")
            args: list[Any] = []
            while self.peek() is not None and self.peek()[0] not in ("pipe", "rparen"):  # type: ignore[index]
                args.append(self.operand())
            return _Call(name, tuple(args))
        operand = self.operand()
        if self.peek() is not None and self.peek()[0] not in ("pipe", "rparen"):  # type: ignore[index]
            raise TemplateError(f"{{{{{self.action}}}}}: {operand} is not a function")
        return operand  # type: ignore[no-any-return]

    def operand(self) -> Any:
        kind, text = self.next()
        if kind == "field":
            return _Field(tuple(k for k in text.split(".") if k))
        if kind == "string":
            return _Literal(_unquote(text))
        if kind == "raw":
            return _Literal(text[1:-1])
        if kind == "number":
            number = float(text)
            return _Literal(int(number) if re.fullmatch(r"-?\d+", text) else number)
        if kind == "ident" and text in ("true", "false"):
            return _Literal(text == "true")
        if kind == "lparen":
            inner = self.pipeline()
            if self.next() != ("rparen", ")"):
                raise TemplateError(f"{{{{{self.action}}}}}: unclosed '('")
            return _Call("__pipeline__", tuple(inner))
        if kind == "ident":
            return _Call(text, ()) if text in _FUNCS else self._refuse_ident(text)
        raise TemplateError(f"{{{{{self.action}}}}}: unexpected {text!r}")

    def _refuse_ident(self, name: str) -> Any:
        raise TemplateError(f"{{{{{self.action}}}}}: {name!r} is not supported here")


def _evaluate(command: Any, data: Any, piped: tuple[Any, ...] = ()) -> Any:
    if isinstance(command, _Field):
        value = data
        for key in command.keys:
            if isinstance(value, Mapping):
                value = value.get(key, _NIL)
            elif value is _NIL or value is None:
                raise TemplateError(f"nil pointer evaluating .{'.'.join(command.keys)}")
            else:
                raise TemplateError(f"can't evaluate field {key} in {go_print(value)!r}")
        if piped:
            raise TemplateError("a field cannot take a piped argument")
        return value
    if isinstance(command, _Literal):
        if piped:
            raise TemplateError("a literal cannot take a piped argument")
        return command.value
    if command.name == "__pipeline__":
        return _run(list(command.args), data)
    args = [_evaluate(a, data) for a in command.args] + list(piped)
    try:
        return _FUNCS[command.name](*args)
    except TypeError:
        raise TemplateError(f"wrong number of arguments for {command.name}") from None


def _run(pipeline: list[_Command], data: Any) -> Any:
    value = _evaluate(pipeline[0], data)
    for command in pipeline[1:]:
        if not isinstance(command, _Call):
            raise TemplateError("only a function can follow '|'")
        value = _evaluate(command, data, (value,))
    return value


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)


class GoTemplate:
    """A parsed template; :meth:`render` executes it with ``{"Input": data}``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._parts: list[str | list[_Command]] = []
        position = 0
        pending_trim = False
        for match in _ACTION.finditer(text):
            literal = text[position : match.start()]
            if pending_trim:
                literal = literal.lstrip()
            if match.group(1):
                literal = literal.rstrip()
            self._parts.append(literal)
            body = match.group(2).strip()
            if body.startswith("/*"):
                pending_trim = bool(match.group(3))
                position = match.end()
                continue
            parser = _Parser(body)
            pipeline = parser.pipeline()
            if parser.peek() is not None:
                raise TemplateError(f"{{{{{body}}}}}: unexpected {parser.peek()[1]!r}")  # type: ignore[index]
            self._parts.append(pipeline)
            pending_trim = bool(match.group(3))
            position = match.end()
        tail = text[position:]
        if "{{" in tail:
            raise TemplateError(f"template {text!r}: '{{{{' is never closed with '}}}}'")
        self._parts.append(tail.lstrip() if pending_trim else tail)

    def render(self, data: Any) -> str:
        """The output; :class:`TemplateError` if it fails to execute."""
        root = {"Input": data}
        out: list[str] = []
        size = 0
        for part in self._parts:
            text = part if isinstance(part, str) else go_print(_run(part, root))
            size += len(text)
            if size > _MAX_OUTPUT:
                raise TemplateError("template output is larger than 1 MiB")
            out.append(text)
        return "".join(out)
