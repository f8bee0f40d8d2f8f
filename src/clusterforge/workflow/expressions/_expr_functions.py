"""The functions a ``{{=…}}`` tag can call, with Argo's Go semantics.

Argo gives expressions expr-lang's builtins, its own aliases ``asInt`` /
``asFloat`` (expr's ``int`` / ``float``), ``toJson``, ``jsonpath``, and the
sprig library under ``sprig.`` (util/expr/env/env.go). clusterforge supports
the subset workflow authors actually reach for; every name here behaves as the
Go function does on the values an expression can hold — for instance
``asInt('1.5')`` is an error (Go's ``strconv.Atoi``), ``len`` counts UTF-8
bytes of a string (Go's ``len``), ``jsonpath`` numbers are floats (Go's JSON
decoding into ``any``), and ``sprig.contains(substr, s)`` takes its arguments
in sprig's order.

``FUNCTIONS`` and ``SPRIG_FUNCTIONS`` map each name to its (min, max) argument
count, which the parser checks; ``call`` runs one and raises
``FunctionError`` with a reason when the arguments do not fit.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping

from clusterforge.safety import LimitExceeded, check_depth

from ._gofmt import go_json, go_value
from ._jsonpath import JsonPathError, query
from ._sprig_more import SPRIG_MORE

__all__ = ["FUNCTIONS", "SPRIG_FUNCTIONS", "FunctionError", "call", "go_type"]


class FunctionError(Exception):
    """A function refused its arguments; the message says why."""


# Go's unicode.IsSpace set, which strings.TrimSpace strips (Python's str.strip
# would also strip \x1c-\x1f).
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_GO_INT = re.compile(r"[+-]?[0-9]+")
_GO_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)",
    re.IGNORECASE,
)
_INT64 = (-(2**63), 2**63 - 1)


def go_type(value: object) -> str:
    """The Go type name of a runtime value, for error messages."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    return type(value).__name__


def _as_int(name: str, value: object) -> int:
    if isinstance(value, bool) or value is None or isinstance(value, list | Mapping):
        raise FunctionError(f"invalid operation: {name}({go_type(value)})")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise FunctionError(f"invalid operation: {name}({go_value(value)})")
        return int(value)
    if isinstance(value, str):
        if _GO_INT.fullmatch(value) is None:
            raise FunctionError(f"invalid operation: {name}({value!r}): not an integer")
        number = int(value)
        if not _INT64[0] <= number <= _INT64[1]:
            raise FunctionError(f"invalid operation: {name}({value!r}): out of range")
        return number
    raise FunctionError(f"invalid operation: {name}({go_type(value)})")


def _as_float(name: str, value: object) -> float:
    if isinstance(value, bool) or value is None or isinstance(value, list | Mapping):
        raise FunctionError(f"invalid operation: {name}({go_type(value)})")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if _GO_FLOAT.fullmatch(value) is None:
            raise FunctionError(f"invalid operation: {name}({value!r}): not a number")
        number = float(value)
        if math.isinf(number) and "inf" not in value.lower():
            raise FunctionError(f"invalid operation: {name}({value!r}): out of range")
        return number
    raise FunctionError(f"invalid operation: {name}({go_type(value)})")


def _len(value: object) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, list | Mapping):
        return len(value)
    raise FunctionError(f"invalid argument for len (type {go_type(value)})")


def _to_json(value: object) -> str:
    try:
        return go_json(value)
    except ValueError as exc:
        raise FunctionError(f"toJson: {exc}") from None


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid character in JSON: {name}")


def _jsonpath(document: object, path: object) -> object:
    text = _string("jsonpath", document, 1)
    expression = _string("jsonpath", path, 2)
    try:
        data = json.loads(text, parse_int=float, parse_constant=_reject_constant)
    except ValueError as exc:
        raise FunctionError(f"jsonpath: the first argument is not JSON: {exc}") from None
    except RecursionError:
        raise FunctionError("jsonpath: the first argument is JSON nested too deep") from None
    try:
        check_depth(data, "jsonpath: the first argument")
    except LimitExceeded as exc:
        raise FunctionError(str(exc)) from None
    try:
        return query(data, expression)
    except JsonPathError as exc:
        raise FunctionError(f"jsonpath {expression!r}: {exc}") from None


def _string(function: str, value: object, index: int) -> str:
    if not isinstance(value, str):
        raise FunctionError(
            f"{function}: argument {index} must be a string, "
            f"not {go_type(value)} ({go_value(value)})"
        )
    return value


def _case(text: str, upper: bool) -> str:
    # Go maps rune by rune; Python's full case mapping would turn 'ß' into 'SS'.
    out = []
    for ch in text:
        mapped = ch.upper() if upper else ch.lower()
        out.append(mapped if len(mapped) == 1 else ch)
    return "".join(out)


def _empty(value: object) -> bool:
    """sprig's ``empty``: nil, false, zero, and empty strings, lists and maps."""
    if value is None:
        return True
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value == 0
    if isinstance(value, str | list | Mapping):
        return len(value) == 0
    return False


def _sprig_default(args: list[object]) -> object:
    fallback = args[0]
    if len(args) == 1 or _empty(args[1]):
        return fallback
    return args[1]


def _strings(name: str, args: list[object]) -> list[str]:
    return [_string(name, arg, i + 1) for i, arg in enumerate(args)]


_Impl = Callable[[list[object]], object]

_BUILTINS: dict[str, tuple[int, int, _Impl]] = {
    "asInt": (1, 1, lambda a: _as_int("asInt", a[0])),
    "int": (1, 1, lambda a: _as_int("int", a[0])),
    "asFloat": (1, 1, lambda a: _as_float("asFloat", a[0])),
    "float": (1, 1, lambda a: _as_float("float", a[0])),
    "string": (1, 1, lambda a: go_value(a[0])),
    "toJson": (1, 1, lambda a: _to_json(a[0])),
    "len": (1, 1, lambda a: _len(a[0])),
    "jsonpath": (2, 2, lambda a: _jsonpath(a[0], a[1])),
}


def _sprig_upper(a: list[object]) -> object:
    return _case(_strings("sprig.upper", a)[0], upper=True)


def _sprig_lower(a: list[object]) -> object:
    return _case(_strings("sprig.lower", a)[0], upper=False)


def _sprig_trim(a: list[object]) -> object:
    return _strings("sprig.trim", a)[0].strip(_GO_SPACE)


def _sprig_trim_prefix(a: list[object]) -> object:
    prefix, text = _strings("sprig.trimPrefix", a)
    return text.removeprefix(prefix)


def _sprig_trim_suffix(a: list[object]) -> object:
    suffix, text = _strings("sprig.trimSuffix", a)
    return text.removesuffix(suffix)


def _sprig_has_prefix(a: list[object]) -> object:
    prefix, text = _strings("sprig.hasPrefix", a)
    return text.startswith(prefix)


def _sprig_has_suffix(a: list[object]) -> object:
    suffix, text = _strings("sprig.hasSuffix", a)
    return text.endswith(suffix)


def _sprig_contains(a: list[object]) -> object:
    substring, text = _strings("sprig.contains", a)
    return substring in text


def _sprig_replace(a: list[object]) -> object:
    old, new, text = _strings("sprig.replace", a)
    return text.replace(old, new)


_SPRIG: dict[str, tuple[int, int, _Impl]] = {
    "upper": (1, 1, _sprig_upper),
    "lower": (1, 1, _sprig_lower),
    "trim": (1, 1, _sprig_trim),
    "trimPrefix": (2, 2, _sprig_trim_prefix),
    "trimSuffix": (2, 2, _sprig_trim_suffix),
    "hasPrefix": (2, 2, _sprig_has_prefix),
    "hasSuffix": (2, 2, _sprig_has_suffix),
    "contains": (2, 2, _sprig_contains),
    "replace": (3, 3, _sprig_replace),
    "default": (1, 2, _sprig_default),
    **SPRIG_MORE,
}

FUNCTIONS: dict[str, tuple[int, int]] = {name: (lo, hi) for name, (lo, hi, _) in _BUILTINS.items()}
SPRIG_FUNCTIONS: dict[str, tuple[int, int]] = {
    name: (lo, hi) for name, (lo, hi, _) in _SPRIG.items()
}


def call(name: str, args: list[object]) -> object:
    """Run function ``name`` ("asInt" or "sprig.upper") on evaluated arguments."""
    if name.startswith("sprig."):
        impl = _SPRIG[name.removeprefix("sprig.")][2]
    else:
        impl = _BUILTINS[name][2]
    try:
        return impl(args)
    except ValueError as exc:  # the sprig_more functions say why in a ValueError
        raise FunctionError(f"{name}: {exc}") from None
