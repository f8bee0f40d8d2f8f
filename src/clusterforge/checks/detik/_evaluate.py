"""Judge one sentence against the rows one query returned.

This is bats-detik's ``verify`` counting branch and its ``verify_value``
function, without the I/O, and with messages that say what was expected and
what the cluster had:

* counts compare the number of rows whose name matches the pattern — zero
  rows is a number like any other;
* property checks (``is``, ``matches``, ``is more than``, ``is less than``)
  fail when no row matches the name pattern, and otherwise need every
  matching row to pass;
* ``find N … with …`` needs exactly N matching rows to pass; the others do
  not matter.

``is`` ignores case; ``matches`` is a case-sensitive POSIX ERE search unless
``fold_values`` (``DETIK_REGEX_CASE_INSENSITIVE_PROPERTIES=true``) lower-cases
the value first, as bats-detik does. ``is more than`` / ``is less than``
compare integers; a value that is not one fails that row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from clusterforge.checks.detik._ere import compile_ere
from clusterforge.checks.detik._kubectl import Row
from clusterforge.checks.detik._sentences import (
    Comparison,
    CountSentence,
    FindSentence,
    PropertySentence,
    Relation,
    Selector,
    Sentence,
    TryPropertySentence,
)

__all__ = ["Verdict", "evaluate"]

_LIST_LIMIT = 10


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str
    details: tuple[str, ...] = ()
    fatal: bool = False  # retrying cannot change the outcome


def _listing(rows: Sequence[Row], phases: Mapping[str, str] | None = None) -> str:
    shown: list[str] = []
    for row in rows[:_LIST_LIMIT]:
        value = row.value if row.value is not None else (phases or {}).get(row.name)
        shown.append(f"{row.name} ({value})" if value and value != "<none>" else row.name)
    if len(rows) > _LIST_LIMIT:
        shown.append(f"… and {len(rows) - _LIST_LIMIT} more")
    return ", ".join(shown)


def _matching(selector: Selector, rows: Sequence[Row]) -> list[Row]:
    pattern = compile_ere(selector.name)
    return [row for row in rows if pattern.search(row.name)]


def _what(selector: Selector, scope: str) -> str:
    return f"{selector.type} named '{selector.name}' {scope}"


def _count(
    sentence: CountSentence, rows: Sequence[Row], scope: str, phases: Mapping[str, str] | None
) -> Verdict:
    matched = _matching(sentence.selector, rows)
    found = len(matched)
    if sentence.relation is Relation.LESS_THAN:
        ok, wanted = found < sentence.count, f"less than {sentence.count}"
    elif sentence.relation is Relation.MORE_THAN:
        ok, wanted = found > sentence.count, f"more than {sentence.count}"
    else:
        ok, wanted = found == sentence.count, str(sentence.count)
    what = _what(sentence.selector, scope)
    details = tuple(row.name for row in matched)
    if ok:
        return Verdict(True, f"found {found} {what}, as expected ({wanted})", details)
    listing = f": {_listing(matched, phases)}" if matched else ""
    return Verdict(False, f"expected {wanted} {what}, found {found}{listing}", details)


def _check(
    comparison: Comparison, expected: str, value: str, fold_values: bool
) -> tuple[bool, str]:
    """Whether one value passes, and a few words on why not."""
    if comparison is Comparison.IS:
        return value.lower() == expected.lower(), f"is {value}"
    if comparison is Comparison.MATCHES:
        subject = value.lower() if fold_values else value
        return compile_ere(expected).search(subject) is not None, f"is {value}"
    try:
        number = int(value)
    except ValueError:
        return False, f"is {value}, not a whole number"
    if comparison is Comparison.IS_MORE_THAN:
        return number > int(expected), f"is {value}, not more than {expected}"
    return number < int(expected), f"is {value}, not less than {expected}"


def _expectation(prop: str, comparison: Comparison, expected: str) -> str:
    if comparison is Comparison.IS:
        return f"'{prop}' to be '{expected}' (ignoring case)"
    if comparison is Comparison.MATCHES:
        return f"'{prop}' to match '{expected}'"
    return f"'{prop}' to be {comparison.value.removeprefix('is ')} {expected}"


def _property(
    sentence: PropertySentence | TryPropertySentence,
    rows: Sequence[Row],
    scope: str,
    fold_values: bool,
) -> Verdict:
    matched = _matching(sentence.selector, rows)
    expectation = _expectation(sentence.prop, sentence.comparison, sentence.expected)
    what = _what(sentence.selector, scope)
    if not matched:
        return Verdict(
            False,
            f"expected {expectation} for every {what}, found no {sentence.selector.type} "
            f"named '{sentence.selector.name}'",
        )
    failures: list[str] = []
    details: list[str] = []
    for row in matched:
        value = row.value or ""
        passed, why = _check(sentence.comparison, sentence.expected, value, fold_values)
        details.append(f"{row.name}: {value} ({'ok' if passed else 'wrong'})")
        if not passed:
            failures.append(f"{row.name} {why}")
    if not failures:
        return Verdict(
            True,
            f"all {len(matched)} {what} have {expectation.removesuffix(' (ignoring case)')}: "
            f"{_listing(matched)}",
            tuple(details),
        )
    shown = "; ".join(failures[:_LIST_LIMIT])
    if len(failures) > _LIST_LIMIT:
        shown += f"; … and {len(failures) - _LIST_LIMIT} more"
    return Verdict(
        False,
        f"expected {expectation} for every {what}; {len(failures)} of {len(matched)} "
        f"do not: {shown}",
        tuple(details),
    )


def _find(sentence: FindSentence, rows: Sequence[Row], scope: str, fold_values: bool) -> Verdict:
    matched = _matching(sentence.selector, rows)
    passing: list[Row] = []
    others: list[Row] = []
    details: list[str] = []
    for row in matched:
        value = row.value or ""
        passed, _ = _check(sentence.comparison, sentence.expected, value, fold_values)
        (passing if passed else others).append(row)
        details.append(f"{row.name}: {value} ({'ok' if passed else 'wrong'})")
    verb = "being" if sentence.comparison is Comparison.IS else "matching"
    expectation = (
        f"{sentence.count} {_what(sentence.selector, scope)} with '{sentence.prop}' "
        f"{verb} '{sentence.expected}'"
    )
    if len(passing) == sentence.count:
        return Verdict(True, f"found {expectation}, as expected", tuple(details))
    message = f"expected {expectation}, found {len(passing)}"
    if passing:
        message += f": {_listing(passing)}"
    if others:
        message += f"; other {sentence.selector.type} named '{sentence.selector.name}': "
        message += _listing(others)
    return Verdict(False, message, tuple(details))


def evaluate(
    sentence: Sentence,
    rows: Sequence[Row],
    *,
    scope: str,
    fold_values: bool = False,
    phases: Mapping[str, str] | None = None,
) -> Verdict:
    """Judge ``sentence`` against the rows of its query.

    ``scope`` words where the query looked ("in namespace 'x'"); ``phases``
    optionally maps names to a status to show next to counted items.
    """
    match sentence:
        case CountSentence():
            return _count(sentence, rows, scope, phases)
        case PropertySentence() | TryPropertySentence():
            return _property(sentence, rows, scope, fold_values)
        case FindSentence():
            return _find(sentence, rows, scope, fold_values)
