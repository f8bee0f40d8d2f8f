"""Reusable Hypothesis strategies for clusterforge's tests.

Expression strategies build a random syntax tree, render it as text the way a
person would write it (parentheses only where precedence needs them, spaces
varying), and compute the expected value from the tree itself — so a property
test compares the parser + evaluator under test with an independent reference
that never parses anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

__all__ = [
    "EXPRESSION_ALPHABET",
    "DependsCase",
    "arbitrary_expression_text",
    "depends_cases",
    "expr_cases",
    "plain_text",
    "tag_free_value",
    "task_names",
    "templates",
    "variable_names",
    "when_cases",
]

# Characters the three languages give meaning to, plus a little of everything.
EXPRESSION_ALPHABET = list("abAB01._-'\"()[]{}=!<>&|+*/%?:,~^#$\\` \t\n")

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_LETTERS = _LOWER + _LOWER.upper()
_DIGITS = "0123456789"


def _word(first: str, rest: str, max_rest: int) -> st.SearchStrategy[str]:
    """One character of ``first``, then up to ``max_rest`` of ``rest`` (cheaper than from_regex)."""
    return st.builds(
        lambda head, tail: head + tail,
        st.sampled_from(first),
        st.text(st.sampled_from(rest), max_size=max_rest),
    )


_SEGMENT = _word(_LETTERS, _LETTERS + _DIGITS + "_-", 8)


def variable_names() -> st.SearchStrategy[str]:
    """Dotted variable names such as ``inputs.parameters.my-param``."""
    prefixes = st.sampled_from(
        ["inputs.parameters", "workflow.parameters", "tasks.a.outputs", "steps.b.outputs", "item"]
    )
    return st.one_of(
        st.builds(lambda prefix, name: f"{prefix}.{name}", prefixes, _SEGMENT),
        st.lists(_SEGMENT, min_size=1, max_size=4).map(".".join),
    )


def tag_free_value() -> st.SearchStrategy[str]:
    """A value without braces, so substituting it cannot form a new tag."""
    return st.text(
        st.characters(blacklist_characters="{}", blacklist_categories=["Cs"]), max_size=20
    )


def plain_text() -> st.SearchStrategy[str]:
    """Text without any ``{{`` — no tags at all — but with single braces and ``}}``."""

    def remove_openers(text: str) -> str:
        while "{{" in text:
            text = text.replace("{{", "{")
        return text

    alphabet = st.sampled_from(list("ab {}=.$\n")) | st.characters(blacklist_categories=["Cs"])
    return st.text(alphabet, max_size=60).map(remove_openers)


@st.composite
def templates(draw: st.DrawFn, min_tags: int = 0) -> tuple[str, list[str]]:
    """Text with simple ``{{ name }}`` tags between brace-free text; the names, in order."""
    filler = st.text(
        st.characters(blacklist_characters="{}", blacklist_categories=["Cs"]), max_size=12
    )
    spaces = st.sampled_from(["", " ", "  ", "\t"])
    parts = [draw(filler)]
    names: list[str] = []
    for _ in range(draw(st.integers(min_tags, 4))):
        name = draw(variable_names())
        names.append(name)
        parts.append("{{" + draw(spaces) + name + draw(spaces) + "}}")
        parts.append(draw(filler))
    return "".join(parts), names


def arbitrary_expression_text() -> st.SearchStrategy[str]:
    """Mostly-garbage text heavy in the languages' own symbols, for never-crash properties."""
    return st.text(
        st.sampled_from(EXPRESSION_ALPHABET) | st.characters(blacklist_categories=["Cs"]),
        max_size=60,
    )


# -- when (govaluate) ---------------------------------------------------------------

# Binding strength of the boolean operators, loosest first.
_OR, _AND, _NOT, _ATOM = 1, 2, 3, 4
_WORD = _word(_LOWER, _LOWER + _DIGITS + "_", 6).filter(lambda w: w not in ("true", "false", "in"))


@dataclass(frozen=True)
class _Rendered:
    text: str
    value: bool
    binding: int


def _space() -> st.SearchStrategy[str]:
    return st.sampled_from([" ", "  ", "\t", " \n "])


@st.composite
def _when_leaf(draw: st.DrawFn) -> _Rendered:
    kind = draw(st.sampled_from(["bool", "number", "word", "quoted", "regex", "in"]))
    sp = draw(_space())
    if kind == "bool":
        value = draw(st.booleans())
        return _Rendered("true" if value else "false", value, _ATOM)
    if kind == "number":
        a, b = draw(st.integers(-50, 50)), draw(st.integers(-50, 50))
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        value = {
            "==": a == b,
            "!=": a != b,
            "<": a < b,
            "<=": a <= b,
            ">": a > b,
            ">=": a >= b,
        }[op]
        return _Rendered(f"{a}{sp}{op}{sp}{b}", value, _ATOM)
    if kind in ("word", "quoted"):
        word = draw(_WORD)
        other = draw(st.sampled_from([word, draw(_WORD)]))
        op = draw(st.sampled_from(["==", "!="]))
        right = other if kind == "word" else draw(st.sampled_from([f"'{other}'", f'"{other}"']))
        return _Rendered(f"{word}{sp}{op}{sp}{right}", (word == other) == (op == "=="), _ATOM)
    if kind == "regex":
        word = draw(_WORD)
        pattern = draw(
            st.sampled_from(["^" + word[0], word[-1] + "$", "[0-9]", "^[a-z_0-9]+$", "x"])
        )
        op = draw(st.sampled_from(["=~", "!~"]))
        found = re.search(pattern, word) is not None
        return _Rendered(f"{word}{sp}{op}{sp}'{pattern}'", found == (op == "=~"), _ATOM)
    word = draw(_WORD)
    # Two or more: govaluate's ('a') is a parenthesised string, not a list.
    options = draw(st.lists(_WORD, min_size=2, max_size=3))
    listed = ", ".join(f"'{option}'" for option in options)
    return _Rendered(f"'{word}'{sp}in{sp}({listed})", word in options, _ATOM)


def _wrap(child: _Rendered, minimum: int) -> str:
    return child.text if child.binding >= minimum else f"({child.text})"


def _extend_when(children: st.SearchStrategy[_Rendered]) -> st.SearchStrategy[_Rendered]:
    def binary(op: str) -> st.SearchStrategy[_Rendered]:
        binding = _OR if op == "||" else _AND
        return st.builds(
            lambda left, right, sp: _Rendered(
                # Left-associative: the right operand needs parentheses at equal binding.
                f"{_wrap(left, binding)}{sp}{op}{sp}{_wrap(right, binding + 1)}",
                (left.value or right.value) if op == "||" else (left.value and right.value),
                binding,
            ),
            children,
            children,
            _space(),
        )

    negation = st.builds(
        # govaluate's '!' applies to one operand: a literal or a parenthesised expression.
        lambda child: _Rendered(
            "!" + (child.text if child.text in ("true", "false") else f"({child.text})"),
            not child.value,
            _NOT,
        ),
        children,
    )
    parenthesised = st.builds(lambda c: _Rendered(f"({c.text})", c.value, _ATOM), children)
    return binary("&&") | binary("||") | negation | parenthesised


def when_cases() -> st.SearchStrategy[tuple[str, bool]]:
    """Well-formed substituted ``when`` expressions and the value they must have."""
    return st.recursive(_when_leaf(), _extend_when, max_leaves=12).map(lambda r: (r.text, r.value))


# -- {{=…}} (expr) ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Arith:
    text: str
    value: int
    binding: int  # 1: + -   2: *   3: atom


def _go_rem(a: int, b: int) -> int:
    remainder = abs(a) % abs(b)
    return -remainder if a < 0 else remainder


def _extend_arith(children: st.SearchStrategy[_Arith]) -> st.SearchStrategy[_Arith]:
    def binary(op: str, binding: int, fn: Callable[[int, int], int]) -> st.SearchStrategy[_Arith]:
        return st.builds(
            lambda a, b: _Arith(
                f"{a.text if a.binding >= binding else f'({a.text})'} {op} "
                f"{b.text if b.binding > binding else f'({b.text})'}",
                fn(a.value, b.value),
                binding,
            ),
            children,
            children,
        )

    modulo = st.builds(
        lambda a, b: _Arith(
            f"{a.text if a.binding >= 2 else f'({a.text})'} % "
            f"{b.text if b.binding > 2 else f'({b.text})'}",
            _go_rem(a.value, b.value),
            2,
        ),
        children,
        children.filter(lambda b: b.value != 0),
    )
    return (
        binary("+", 1, lambda a, b: a + b)
        | binary("-", 1, lambda a, b: a - b)
        | binary("*", 2, lambda a, b: a * b)
        | modulo
    )


def expr_cases() -> st.SearchStrategy[tuple[str, str]]:
    """``{{=…}}`` integer expressions (``+ - * %``, Go's remainder) and their rendering."""
    leaves = st.integers(0, 20).map(lambda n: _Arith(str(n), n, 3))
    trees = st.recursive(leaves, _extend_arith, max_leaves=8)
    return trees.map(lambda tree: ("{{=" + tree.text + "}}", str(tree.value)))


# -- depends --------------------------------------------------------------------------------

_PHASES = ["Succeeded", "Failed", "Error", "Skipped", "Omitted"]
_RESULT_PHASE = {
    "Succeeded": "Succeeded",
    "Failed": "Failed",
    "Errored": "Error",
    "Skipped": "Skipped",
    "Omitted": "Omitted",
}


def task_names() -> st.SearchStrategy[str]:
    """Argo DAG task names: letters, digits and dashes."""
    return _word(_LOWER + _DIGITS, _LOWER + _DIGITS + "-", 10)


@dataclass(frozen=True)
class DependsCase:
    """A ``depends`` text, the phases of its tasks, and whether it must hold."""

    text: str
    phases: dict[str, str]
    children: dict[str, list[str]]
    expected: bool


def _depends_value(
    task: str, result: str | None, phases: dict[str, str], children: dict[str, list[str]]
) -> bool:
    phase = phases[task]
    if result is None:
        return phase in ("Succeeded", "Skipped")
    if result == "AnySucceeded":
        return "Succeeded" in children[task]
    if result == "AllFailed":
        return bool(children[task]) and all(p == "Failed" for p in children[task])
    if result == "Daemoned":
        return False
    return phase == _RESULT_PHASE[result]


# An abstract depends tree: ("ref", task index, result or None), ("not", child),
# ("&&" | "||", left, right). Built once, rendered per drawn set of tasks.

_DEPENDS_TREES: st.SearchStrategy[tuple[object, ...]] = st.recursive(
    st.tuples(
        st.just("ref"),
        st.integers(0, 3),
        st.sampled_from([None, *_RESULT_PHASE, "Daemoned", "AnySucceeded", "AllFailed"]),
    ),
    lambda kids: (
        st.tuples(st.just("not"), kids) | st.tuples(st.sampled_from(["&&", "||"]), kids, kids)
    ),
    max_leaves=10,
)


def _render_depends(
    tree: tuple[object, ...],
    tasks: list[str],
    phases: dict[str, str],
    children: dict[str, list[str]],
) -> _Rendered:
    kind = tree[0]
    if kind == "ref":
        task = tasks[int(str(tree[1])) % len(tasks)]
        result = tree[2] if isinstance(tree[2], str) else None
        text = task if result is None else f"{task}.{result}"
        return _Rendered(text, _depends_value(task, result, phases, children), _ATOM)
    if kind == "not":
        child = _render_depends(tree[1], tasks, phases, children)  # type: ignore[arg-type]
        return _Rendered("!" + _wrap(child, _NOT), not child.value, _NOT)
    left = _render_depends(tree[1], tasks, phases, children)  # type: ignore[arg-type]
    right = _render_depends(tree[2], tasks, phases, children)  # type: ignore[arg-type]
    binding = _OR if kind == "||" else _AND
    value = (left.value or right.value) if kind == "||" else (left.value and right.value)
    text = f"{_wrap(left, binding)} {kind} {_wrap(right, binding + 1)}"
    return _Rendered(text, value, binding)


@st.composite
def depends_cases(draw: st.DrawFn) -> DependsCase:
    """A random ``depends`` expression over a few tasks, their phases, and the expected value."""
    tasks = draw(st.lists(task_names(), min_size=1, max_size=4, unique=True))
    phases = {task: draw(st.sampled_from(_PHASES)) for task in tasks}
    children = {task: draw(st.lists(st.sampled_from(_PHASES), max_size=3)) for task in tasks}
    rendered = _render_depends(draw(_DEPENDS_TREES), tasks, phases, children)
    return DependsCase(rendered.text, phases, children, rendered.value)
