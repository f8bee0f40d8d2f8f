"""``{{…}}`` template tags: finding them, and replacing them with values.

Argo finds tags the way valyala/fasttemplate does (util/template/template.go):
from each ``{{`` to the *next* ``}}``, without nesting; a ``{{`` with no
``}}`` after it makes the whole text invalid. A tag whose first character is
``=`` is an *expression* tag, evaluated as expr-lang (see ``_expr_parser``);
any other tag is a *simple* tag, replaced by the variable whose name is the
tag with surrounding whitespace removed (util/template/simple_template.go).

Argo also resolves one level of nesting in a simple tag: in
``{{steps.{{inputs.parameters.s}}.outputs.result}}`` the first tag found is
``steps.{{inputs.parameters.s``; when that is no variable, the name after its
last ``{{`` is looked up and the tag is rewritten to ``{{steps.<value>`` — a
new tag that a later pass resolves. ``references`` reports the inner name for
such a tag.

Substitution here is plain text (Argo substitutes inside JSON and escapes
replacements for it; clusterforge substitutes field values, which need no
escaping). Values are strings; an expression's non-string result is written
the way Go's ``%v`` writes it (``_gofmt``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ._errors import ExpressionError
from ._expr_eval import EvalError, Scope, UnknownVariable, build_scope, evaluate
from ._expr_parser import Node, ParseError, parse_expr, variable_paths
from ._gofmt import go_value

__all__ = ["check_expression_tags", "expression_references", "references", "substitute"]

_LANGUAGE = "template"


@dataclass(frozen=True, slots=True)
class _Tag:
    start: int  # offset of the opening '{{'
    end: int  # offset just after the closing '}}'
    content: str  # the text between the braces

    @property
    def is_expression(self) -> bool:
        return self.content.startswith("=")

    @property
    def expression_offset(self) -> int:
        return self.start + 3  # '{{='

    def nested_name(self) -> str | None:
        """For ``{{a.{{b``: ``b`` (Argo's one level of nesting), else None."""
        index = self.content.rfind("{{")
        return self.content[index + 2 :].strip() if index > 0 else None


def _tags(text: str, language: str = _LANGUAGE) -> list[_Tag]:
    tags: list[_Tag] = []
    position = 0
    while True:
        start = text.find("{{", position)
        if start < 0:
            return tags
        close = text.find("}}", start + 2)
        if close < 0:
            raise ExpressionError(text, start, "'{{' is never closed with '}}'", language=language)
        tags.append(_Tag(start, close + 2, text[start + 2 : close]))
        position = close + 2


@functools.lru_cache(maxsize=1024)
def _parse(source: str) -> Node:
    return parse_expr(source)


def _parse_tag(text: str, tag: _Tag, language: str = _LANGUAGE) -> Node:
    try:
        return _parse(tag.content[1:])
    except ParseError as exc:
        raise ExpressionError(
            text, tag.expression_offset + exc.position, exc.reason, language=language
        ) from None


def check_expression_tags(text: str, *, language: str = _LANGUAGE) -> None:
    """Raise :class:`ExpressionError` (as ``language``) for a ``{{=…}}`` tag that does not parse."""
    for tag in _tags(text, language):
        if tag.is_expression:
            _parse_tag(text, tag, language)


def references(text: str) -> list[str]:
    """Names used in simple tags, in order of first use, each once.

    ``'Hello {{ inputs.parameters.x }}'`` gives ``['inputs.parameters.x']``.
    ``{{=…}}`` tags are not included (see :func:`expression_references`). For a
    nested tag ``{{steps.{{inputs.parameters.s}}.outputs.result}}`` the inner
    name ``inputs.parameters.s`` is reported; the outer one is only known after
    substitution. Raises :class:`ExpressionError` for a ``{{`` that is never
    closed.
    """
    found: dict[str, None] = {}
    for tag in _tags(text):
        if tag.is_expression:
            continue
        nested = tag.nested_name()
        found.setdefault(nested if nested is not None else tag.content.strip(), None)
    return list(found)


def expression_references(text: str) -> list[str]:
    """Variables (dotted names) that the ``{{=…}}`` tags in ``text`` read, in order, each once.

    ``inputs.parameters['my-param']`` is reported as ``inputs.parameters.my-param``.
    Raises :class:`ExpressionError` for a tag that does not parse (syntax, an
    unknown function, a wrong number of arguments), pointing into ``text``.
    """
    found: dict[str, None] = {}
    for tag in _tags(text):
        if tag.is_expression:
            for name in variable_paths(_parse_tag(text, tag)):
                found.setdefault(name, None)
    return list(found)


def substitute(
    text: str,
    values: Mapping[str, str],
    *,
    missing: Literal["keep", "error"] = "keep",
) -> str:
    """Replace every tag in ``text``.

    A simple tag ``{{name}}`` (whitespace inside the braces allowed) becomes
    ``values[name]``. An expression tag ``{{=expr}}`` is evaluated with the
    dotted names of ``values`` as its variables and replaced by its result;
    a result that is not a string is written as Argo writes it (``5`` for 5.0,
    ``true``, ``[a b]`` for a list — use ``toJson()`` for JSON).

    With ``missing="keep"`` a tag that needs a name ``values`` lacks is left as
    it is, for a later pass; with ``missing="error"`` it raises
    :class:`ExpressionError` naming the tag. Syntax errors and evaluation errors
    (a type mismatch, ``asInt('x')``) raise in both modes.
    """
    if missing not in ("keep", "error"):
        raise ValueError(f"missing must be 'keep' or 'error', not {missing!r}")
    tags = _tags(text)
    if not tags:
        return text
    scope: Scope | None = None
    out: list[str] = []
    position = 0
    for tag in tags:
        out.append(text[position : tag.start])
        position = tag.end
        if tag.is_expression:
            if scope is None:
                scope = build_scope(values)
            out.append(_expression(text, tag, scope, missing))
            continue
        name = tag.content.strip()
        if name in values:
            out.append(values[name])
            continue
        nested = tag.nested_name()
        if nested is not None and nested in values:
            # Argo rewrites '{{a.{{b}}' to '{{a.<b>' for a later pass to finish.
            out.append("{{" + tag.content[: tag.content.rfind("{{")] + values[nested])
            continue
        if missing == "error":
            raise ExpressionError(
                text, tag.start, f"no value for '{nested or name}'", language=_LANGUAGE
            )
        out.append(text[tag.start : tag.end])
    out.append(text[position:])
    return "".join(out)


def _expression(text: str, tag: _Tag, scope: Scope, missing: str) -> str:
    node = _parse_tag(text, tag)
    try:
        result = evaluate(node, scope)
    except UnknownVariable as exc:
        if missing == "keep":
            return text[tag.start : tag.end]
        raise ExpressionError(
            text, tag.expression_offset + exc.position, exc.reason, language=_LANGUAGE
        ) from None
    except EvalError as exc:
        raise ExpressionError(
            text, tag.expression_offset + exc.position, exc.reason, language=_LANGUAGE
        ) from None
    if result is None:
        if missing == "keep":
            return text[tag.start : tag.end]
        raise ExpressionError(
            text, tag.expression_offset, "the expression evaluates to nil", language=_LANGUAGE
        )
    return result if isinstance(result, str) else go_value(result)
