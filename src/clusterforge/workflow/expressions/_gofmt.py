"""Render values the way Argo's Go code prints them.

Argo writes the result of a ``{{=…}}`` tag with Go's ``fmt.Sprintf("%v", …)``
(util/template/expression_template.go) and ``toJson`` is Go's
``json.Marshal`` (util/expr/env/env.go). A template must render the same
locally as on Argo, so both are reproduced here rather than approximated with
Python's ``str`` and ``json.dumps``, which differ for floats (Go prints
``5`` for 5.0, ``1e+06`` for a million), for lists (``[a b]``, not JSON) and for
maps (``map[a:1 b:2]``), and in JSON escaping (Go escapes ``<``, ``>``, ``&``).

Values are the expression languages' runtime values: ``None``, ``bool``,
``int``, ``float``, ``str``, ``list`` and ``dict`` with string keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

__all__ = ["go_json", "go_value"]


def go_value(value: object) -> str:
    """``fmt.Sprintf("%v", value)`` for a runtime value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_v(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(go_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        pairs = (f"{key}:{go_value(value[key])}" for key in sorted(value))
        return "map[" + " ".join(pairs) + "]"
    return str(value)


def go_json(value: object) -> str:
    """``json.Marshal(value)`` for a runtime value; ``ValueError`` for NaN or ±Inf."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_json(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, list):
        return "[" + ",".join(go_json(item) for item in value) + "]"
    if isinstance(value, Mapping):
        pairs = (f"{_json_string(key)}:{go_json(value[key])}" for key in sorted(value))
        return "{" + ",".join(pairs) + "}"
    raise ValueError(f"json: unsupported type {type(value).__name__}")


def _digits(value: float) -> tuple[str, int]:
    """The shortest round-tripping decimal digits of ``abs(value)`` and its decimal point.

    ``(digits, point)`` means ``0.digits * 10**point``, as Go's strconv has it.
    """
    sign_digits_exp = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(d) for d in sign_digits_exp.digits)
    exponent = sign_digits_exp.exponent
    assert isinstance(exponent, int)
    if digits.strip("0") == "":
        return "0", 1
    return digits, len(digits) + exponent


def _format_e(negative: bool, digits: str, point: int, exp_width: int) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exponent = point - 1
    sign = "-" if exponent < 0 else "+"
    return ("-" if negative else "") + f"{mantissa}e{sign}{abs(exponent):0{exp_width}d}"


def _format_f(negative: bool, digits: str, point: int) -> str:
    if point <= 0:
        text = "0." + "0" * -point + digits
    elif point >= len(digits):
        text = digits + "0" * (point - len(digits))
    else:
        text = digits[:point] + "." + digits[point:]
    return ("-" if negative else "") + text


def _special(value: float) -> str | None:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return None


def _float_v(value: float) -> str:
    """Go's ``%v`` for a float64: strconv's shortest ``%g``.

    fmt/print.go formats ``%v`` as ``'g'`` with the shortest precision, and
    strconv/ftoa.go then uses the exponent form when the decimal exponent is
    below -4 or at least 6 ("if precision was the shortest possible, use
    precision 6 for this decision"): ``999999``, ``1e+06``, ``1.234567e+06``,
    ``0.0001``, ``1e-05``.
    """
    special = _special(value)
    if special is not None:
        return special
    negative = math.copysign(1.0, value) < 0
    digits, point = _digits(value)
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        return _format_e(negative, digits, point, 2)
    return _format_f(negative, digits, point)


def _float_json(value: float) -> str:
    """encoding/json's float64: positional unless below 1e-6 or from 1e21, ``e-7`` not ``e-07``."""
    if _special(value) is not None:
        raise ValueError(f"json: unsupported value: {_special(value)}")
    negative = math.copysign(1.0, value) < 0
    magnitude = abs(value)
    digits, point = _digits(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = _format_e(negative, digits, point, 2)
        head, _, tail = text.partition("e")
        if tail[0] == "-" and len(tail) == 3 and tail[1] == "0":
            tail = "-" + tail[2]
        return head + "e" + tail
    return _format_f(negative, digits, point)


_JSON_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _json_string(text: str) -> str:
    out = ['"']
    for ch in text:
        escaped = _JSON_ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
