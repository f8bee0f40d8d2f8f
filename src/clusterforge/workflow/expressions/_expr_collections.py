"""Closures, ranges and slices of the ``{{=…}}`` language, with expr-lang's rules.

``map(list, {…})`` and its kin apply a closure body to each element (``#``);
``filter`` and the quantifiers want the body to give a bool for every element,
as expr's type checker does; ``count`` counts the elements it is true for.
``a..b`` is the list of integers from ``a`` to ``b`` inclusive (empty when
``b < a``). ``x[a:b]`` slices a list or a string; a negative bound counts from
the end, and bounds are clamped to the value's length, as expr's runtime does.

Each refusal is a :class:`FunctionError` with the reason; the evaluator adds
the position.
"""

from __future__ import annotations

from collections.abc import Callable

from ._expr_functions import FunctionError, go_type

__all__ = ["apply_closure", "int_range", "slice_value"]

MAX_RANGE = 100_000
"""The longest list a range may build (a typo like ``1..1e9`` must not eat memory)."""


def apply_closure(name: str, subject: object, body: Callable[[object], object]) -> object:
    """Run closure function ``name`` over ``subject`` (a list), ``body`` per element."""
    if not isinstance(subject, list):
        raise FunctionError(f"{name}() wants a list as its first argument, not {go_type(subject)}")
    if name == "map":
        return [body(element) for element in subject]
    if name == "filter":
        return [element for element in subject if _truth(name, body(element))]
    if name == "count":
        return sum(1 for element in subject if _truth(name, body(element)))
    if name == "all":
        return all(_truth(name, body(element)) for element in subject)
    if name == "any":
        return any(_truth(name, body(element)) for element in subject)
    if name == "none":
        return not any(_truth(name, body(element)) for element in subject)
    if name == "one":
        return sum(1 for element in subject if _truth(name, body(element))) == 1
    raise FunctionError(f"function '{name}' takes a closure, which is not supported")


def _truth(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise FunctionError(f"the closure of {name}() must give a bool, not {go_type(value)}")
    return value


def int_range(low: object, high: object) -> list[int]:
    """``low..high``: both integers; inclusive."""
    if type(low) is not int or type(high) is not int:
        raise FunctionError(
            f"a range '..' takes two integers, not {go_type(low)} and {go_type(high)}"
        )
    if high - low >= MAX_RANGE:
        raise FunctionError(f"a range '..' may hold at most {MAX_RANGE} integers")
    return list(range(low, high + 1))


def slice_value(value: object, low: object, high: object) -> object:
    """``value[low:high]`` for a list or a string; ``None`` bounds are the ends."""
    if not isinstance(value, (list, str)):
        raise FunctionError(f"cannot slice {go_type(value)}; slices take a list or a string")
    size = len(value)
    start = _bound(low, 0, size)
    end = _bound(high, size, size)
    return value[start:end] if start < end else value[0:0]


def _bound(bound: object, default: int, size: int) -> int:
    if bound is None:
        return default
    if type(bound) is not int:
        raise FunctionError(f"a slice bound must be an integer, not {go_type(bound)}")
    if bound < 0:
        bound += size
    return min(max(bound, 0), size)
