"""A dependency's filters: does this event count, and if not, why not.

Semantics follow Argo Events (pkg/sensors/dependencies/filter.go), so a
sensor means the same thing here and on a cluster:

* ``data`` filters read a gjson ``path`` of the event data (``body.…``,
  ``header.…``); ``type: string`` values are regular expressions searched in
  the value (``comparator`` ``=`` matches, ``!=`` must not match); ``number``
  compares as floats with ``= != < <= > >=``; ``bool`` compares exactly.
  Any value of the list may satisfy the filter; a missing path fails it;
* ``exprs`` bind ``fields`` (name → path) and evaluate ``expr`` in govaluate's
  dialect (clusterforge's own ``when`` evaluator — no ``eval()``);
* ``context`` compares type/subject/source/datacontenttype exactly;
* ``dataLogicalOperator``/``exprLogicalOperator``/``filtersLogicalOperator``
  combine with ``and`` (default) or ``or``.

The difference that matters: Argo logs a rejected event and answers the
webhook 200 anyway. Every function here returns the *reason* an event was
rejected, and the API sends it back to the caller as a 4xx.
``script`` (Lua) and ``time`` filters are refused when a sensor is loaded.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clusterforge.api.triggers._gotemplate import NO_VALUE, GoTemplate, TemplateError
from clusterforge.api.triggers._paths import MISSING, Path, PathError, gjson_string, parse_path
from clusterforge.errors import UserError
from clusterforge.safety import Pattern, RegexError, compile_re2
from clusterforge.workflow.expressions import evaluate_when

__all__ = ["DependencyFilter", "FilterError", "Verdict", "compile_filter"]

_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
# strconv.ParseBool's spellings
_BOOLS = {**dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
          **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False)}  # fmt: skip
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class FilterError(ValueError):
    """A filter that cannot work (bad regex, unknown type…), found at load time."""


@dataclass(frozen=True)
class Verdict:
    """Whether an event passed, and the reason when it did not."""

    ok: bool
    reason: str = ""


_PASS = Verdict(True)


def _show(values: Sequence[str]) -> str:
    return "[" + ", ".join(repr(v) for v in values) + "]"


@dataclass(frozen=True)
class _DataFilter:
    where: str
    path: Path
    type: str
    values: tuple[str, ...]
    comparator: str
    template: GoTemplate | None
    patterns: tuple[Pattern, ...]
    numbers: tuple[float, ...]
    bools: tuple[bool, ...]

    def check(self, data: Any) -> Verdict:
        found = self.path.get(data)
        if found is MISSING:
            return Verdict(False, f"{self.where}: path {self.path.text!r} does not exist")
        text = gjson_string(found)
        if self.template is not None:
            try:
                text = self.template.render(text)
            except TemplateError as err:
                return Verdict(False, f"{self.where}: template failed: {err}")
            if text in ("", NO_VALUE):
                return Verdict(False, f"{self.where}: template gave no value")
        label = f"{self.where}: {self.path.text} = {text[:80]!r}"
        if self.type == "string":
            matched = [bool(p.search(text)) for p in self.patterns]
            if self.comparator == "!=":
                if any(not m for m in matched):
                    return _PASS
                return Verdict(False, f"{label} matches {_show(self.values)} (comparator '!=')")
            if any(matched):
                return _PASS
            return Verdict(False, f"{label} does not match any of {_show(self.values)}")
        if self.type == "number":
            number = _gjson_float(found, text)
            compare = _NUMERIC[self.comparator]
            if any(compare(number, v) for v in self.numbers):
                return _PASS
            op = self.comparator or "="
            return Verdict(False, f"{label} is not {op} any of {_show(self.values)}")
        actual = _gjson_bool(found, text)
        if any(actual == v for v in self.bools):
            return _PASS
        return Verdict(False, f"{label} is not {_show(self.values)}")


def _gjson_float(found: Any, text: str) -> float:
    if isinstance(found, bool):
        return 1.0 if found else 0.0
    if isinstance(found, int | float):
        return float(found)
    try:
        return float(text)
    except ValueError:
        return 0.0


def _gjson_bool(found: Any, text: str) -> bool:
    if isinstance(found, bool):
        return found
    if isinstance(found, int | float):
        return found != 0
    return _BOOLS.get(text, False)


@dataclass(frozen=True)
class _ExprFilter:
    where: str
    expr: str
    fields: tuple[tuple[str, Path], ...]

    def check(self, data: Any) -> Verdict:
        values: dict[str, Any] = {}
        for name, path in self.fields:
            found = path.get(data)
            if found is MISSING:
                return Verdict(False, f"{self.where}: path {path.text!r} does not exist")
            values[name] = found
        if not values:
            return _PASS
        try:
            text = _bind(self.expr, values)
            result = evaluate_when(text)
        except (UserError, ValueError) as err:
            return Verdict(False, f"{self.where}: {self.expr!r} cannot be evaluated: {err}")
        if result:
            return _PASS
        shown = ", ".join(f"{k}={gjson_string(v)[:40]!r}" for k, v in values.items())
        return Verdict(False, f"{self.where}: {self.expr!r} is false ({shown})")


def _literal(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"({gjson_string(value)})"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"')
        return f"'{escaped}'"
    kind = "null" if value is None else "a list" if isinstance(value, list) else "a mapping"
    raise ValueError(f"field {name!r} is {kind}; expressions compare strings, numbers, booleans")


def _bind(expr: str, values: Mapping[str, Any]) -> str:
    """Replace the field names of ``expr`` (outside quotes) with literals of their values."""
    out: list[str] = []
    i = 0
    while i < len(expr):
        ch = expr[i]
        if ch in "'\"":
            j = i + 1
            while j < len(expr) and expr[j] not in "'\"":
                j += 2 if expr[j] == "\\" else 1
            out.append(expr[i : j + 1])
            i = j + 1
            continue
        match = _WORD.match(expr, i)
        if match and (i == 0 or not (expr[i - 1].isalnum() or expr[i - 1] in "_.")):
            word = match.group(0)
            if word in values:
                out.append(_literal(word, values[word]))
            elif word in ("true", "false", "in", "IN"):
                out.append(word)
            else:
                raise ValueError(f"{word!r} is not one of its fields ({', '.join(values)})")
            i = match.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class _ContextFilter:
    where: str
    expected: tuple[tuple[str, str], ...]

    def check(self, context: Mapping[str, Any]) -> Verdict:
        for key, want in self.expected:
            got = str(context.get(key, ""))
            if got != want:
                return Verdict(False, f"{self.where}: context {key} is {got!r}, not {want!r}")
        return _PASS


def _combine(verdicts: list[Verdict], operator: str) -> Verdict:
    if not verdicts:
        return _PASS
    if operator == "or":
        if any(v.ok for v in verdicts):
            return _PASS
        return Verdict(False, " and ".join(v.reason for v in verdicts))
    for verdict in verdicts:
        if not verdict.ok:
            return verdict
    return _PASS


def _operator(value: str | None, where: str) -> str:
    op = value or "and"
    if op not in ("and", "or"):
        raise FilterError(f"{where}: {value!r} is not a logical operator; use 'and' or 'or'")
    return op


@dataclass(frozen=True)
class DependencyFilter:
    """The compiled filters of one dependency."""

    exprs: tuple[_ExprFilter, ...]
    expr_operator: str
    data: tuple[_DataFilter, ...]
    data_operator: str
    context: _ContextFilter | None
    operator: str

    def check(self, data: Any, context: Mapping[str, Any]) -> Verdict:
        """Apply the filters in Argo's order (expr, data, context)."""
        parts: list[Verdict] = []
        if self.exprs:
            parts.append(_combine([f.check(data) for f in self.exprs], self.expr_operator))
        if self.data:
            parts.append(_combine([f.check(data) for f in self.data], self.data_operator))
        if self.context is not None:
            parts.append(self.context.check(context))
        return _combine(parts, self.operator)


def _compile_data(raw: Mapping[str, Any], where: str) -> _DataFilter:
    path_text = raw.get("path") or ""
    try:
        path = parse_path(path_text)
    except PathError as err:
        raise FilterError(f"{where}.path: {err}") from None
    kind = raw.get("type") or ""
    if kind not in ("string", "number", "bool"):
        raise FilterError(f"{where}.type: {kind!r} is not supported; use string, number or bool")
    values = tuple(str(v) for v in raw.get("value") or ())
    if not values:
        raise FilterError(f"{where}.value: give at least one value")
    comparator = raw.get("comparator") or ""
    if comparator not in _NUMERIC:
        raise FilterError(f"{where}.comparator: {comparator!r}; use one of = != > >= < <=")
    if kind in ("string", "bool") and comparator not in ("", "=", "!="):
        raise FilterError(f"{where}.comparator: {comparator!r} only applies to numbers")
    template = None
    if raw.get("template"):
        try:
            template = GoTemplate(raw["template"])
        except TemplateError as err:
            raise FilterError(f"{where}.template: {err}") from None
    patterns: list[Pattern] = []
    numbers: list[float] = []
    bools: list[bool] = []
    for index, value in enumerate(values):
        if kind == "string":
            try:
                patterns.append(compile_re2(value))
            except RegexError as err:
                raise FilterError(
                    f"{where}.value[{index}]: bad regular expression: {err.reason}"
                ) from None
        elif kind == "number":
            try:
                numbers.append(float(value))
            except ValueError:
                raise FilterError(f"{where}.value[{index}]: {value!r} is not a number") from None
        else:
            if value not in _BOOLS:
                raise FilterError(f"{where}.value[{index}]: {value!r} is not a boolean")
            bools.append(_BOOLS[value])
    return _DataFilter(
        where, path, kind, values, comparator, template,
        tuple(patterns), tuple(numbers), tuple(bools),
    )  # fmt: skip


def _compile_expr(raw: Mapping[str, Any], where: str) -> _ExprFilter:
    expr = raw.get("expr") or ""
    if not expr:
        raise FilterError(f"{where}.expr: give an expression")
    fields: list[tuple[str, Path]] = []
    for index, field in enumerate(raw.get("fields") or ()):
        name, path_text = field.get("name") or "", field.get("path") or ""
        if not _WORD.fullmatch(name):
            raise FilterError(f"{where}.fields[{index}].name: {name!r} is not a plain name")
        try:
            fields.append((name, parse_path(path_text)))
        except PathError as err:
            raise FilterError(f"{where}.fields[{index}].path: {err}") from None
    return _ExprFilter(where, expr, tuple(fields))


def compile_filter(
    raw: Mapping[str, Any] | None, operator: str | None, where: str
) -> DependencyFilter | None:
    """Compile ``dependencies[i].filters``; :class:`FilterError` for what cannot work here."""
    if not raw:
        return None
    for unsupported, why in (("script", "Lua scripts"), ("time", "time windows")):
        if raw.get(unsupported):
            raise FilterError(
                f"{where}.{unsupported}: {why} are not supported by clusterforge's sensors; "
                "use data or exprs filters"
            )
    context = None
    if raw.get("context"):
        ctx = raw["context"]
        keys = ("type", "subject", "source", "datacontenttype")
        unknown = sorted(set(ctx) - set(keys))
        if unknown:
            raise FilterError(f"{where}.context: unsupported keys {unknown}; use {list(keys)}")
        context = _ContextFilter(
            f"{where}.context", tuple((k, str(ctx[k])) for k in keys if ctx.get(k))
        )
    return DependencyFilter(
        exprs=tuple(
            _compile_expr(e, f"{where}.exprs[{i}]") for i, e in enumerate(raw.get("exprs") or ())
        ),
        expr_operator=_operator(raw.get("exprLogicalOperator"), f"{where}.exprLogicalOperator"),
        data=tuple(
            _compile_data(d, f"{where}.data[{i}]") for i, d in enumerate(raw.get("data") or ())
        ),
        data_operator=_operator(raw.get("dataLogicalOperator"), f"{where}.dataLogicalOperator"),
        context=context,
        operator=_operator(operator, f"{where} filtersLogicalOperator"),
    )
