"""Parse DETIK sentences into typed values, pointing at the first bad word.

bats-detik matches a sentence against twelve anchored regular expressions
(``lib/utils.bash``) under ``shopt -s nocasematch``; a sentence that matches
none is "invalid" with no further hint. This parser accepts the same
language — keywords in any case, types matching ``[a-z][0-9a-z.]+``
(lower-cased), single-quoted non-empty values without a quote inside,
``there is`` only with 0 or 1, ``every <N>s`` with the ``s`` attached — but
walks it word by word, so an error names the word where the sentence left the
grammar and what could have come there.

Deliberate differences from bats-detik, all of them stricter:

* name and ``matches`` patterns must be valid POSIX EREs (grep would fail at
  run time and the check would quietly see no items);
* ``is more than`` / ``is less than`` need an integer (bash would evaluate a
  word as an unset variable, i.e. 0);
* ``at most 0 times`` is refused (bats-detik runs no attempt and passes).

Whitespace between words may be any run of spaces, tabs or newlines;
whitespace inside quotes is kept as written (bats-detik's ``trim`` collapses
it, an artefact of an unquoted ``echo``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from clusterforge.checks.detik._ere import EreError, compile_ere
from clusterforge.checks.detik._errors import DetikSyntaxError, EmptySentence
from clusterforge.checks.detik._sentences import (
    Comparison,
    CountSentence,
    FindSentence,
    Keyword,
    PropertySentence,
    Relation,
    Retry,
    Selector,
    Sentence,
    TryPropertySentence,
)

__all__ = ["parse"]

_TYPE = re.compile(r"[a-z][0-9a-z.]+", re.IGNORECASE | re.ASCII)
_NUMBER = re.compile(r"[0-9]+", re.ASCII)
_INTERVAL = re.compile(r"([0-9]+)s", re.IGNORECASE | re.ASCII)
_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)


@dataclass(frozen=True)
class _Token:
    text: str  # for a quoted token: the content, without the quotes
    start: int  # offset of the first character (the opening quote for quoted tokens)
    quoted: bool

    @property
    def word(self) -> str:
        return "" if self.quoted else self.text.lower()


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        start = pos
        if text[pos] == "'":
            end = text.find("'", pos + 1)
            if end < 0:
                raise DetikSyntaxError(text, start, "this quote is never closed")
            if end + 1 < len(text) and not text[end + 1].isspace():
                raise DetikSyntaxError(text, end + 1, "expected a space after the closing quote")
            tokens.append(_Token(text[start + 1 : end], start, quoted=True))
            pos = end + 1
            continue
        while pos < len(text) and not text[pos].isspace():
            if text[pos] == "'":
                raise DetikSyntaxError(text, pos, "expected a space before the opening quote")
            pos += 1
        tokens.append(_Token(text[start:pos], start, quoted=False))
    return tokens


class _Cursor:
    """Walks the tokens; every ``expect_*`` either returns a value or raises."""

    def __init__(self, text: str, tokens: Sequence[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def fail(self, expected: str, token: _Token | None = None) -> NoReturn:
        token = token if token is not None else self.peek()
        if token is None:
            raise DetikSyntaxError(self.text, len(self.text), f"{expected}, found the end")
        raise DetikSyntaxError(self.text, token.start, expected)

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            self.fail("expected more words")
        self.index += 1
        return token

    def expect_word(self, *words: str) -> str:
        token = self.peek()
        if token is None or token.word not in words:
            self.fail("expected " + " or ".join(f"'{w}'" for w in words))
        self.index += 1
        return token.word

    def accept_word(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token.word in words:
            self.index += 1
            return token.word
        return None

    def expect_number(self, what: str = "a number") -> int:
        token = self.peek()
        if token is None or token.quoted or not _NUMBER.fullmatch(token.text):
            self.fail(f"expected {what}")
        self.index += 1
        return int(token.text)

    def expect_interval(self) -> int:
        token = self.peek()
        match = None if token is None or token.quoted else _INTERVAL.fullmatch(token.text)
        if match is None:
            following = self.tokens[self.index + 1] if self.index + 1 < len(self.tokens) else None
            if (
                token is not None
                and _NUMBER.fullmatch(token.text)
                and following is not None
                and following.word == "s"
            ):
                self.fail(f"expected an interval like {token.text}s (no space before the s)")
            self.fail("expected an interval in seconds, like 30s")
        self.index += 1
        return int(match.group(1))

    def expect_type(self) -> str:
        token = self.peek()
        if token is not None and token.word == "named":
            self.fail("expected a resource type (like pods or svc) before 'named'")
        if token is None or token.quoted or not _TYPE.fullmatch(token.text):
            self.fail(
                "expected a resource type: a letter, then letters, digits or dots (like pods)"
            )
        self.index += 1
        return token.text.lower()

    def expect_quoted(self, what: str) -> _Token:
        token = self.peek()
        if token is None or not token.quoted:
            self.fail(f"expected {what} in single quotes")
        if not token.text:
            self.fail(f"expected {what} in single quotes, not an empty value")
        self.index += 1
        return token

    def expect_pattern(self, what: str) -> str:
        token = self.expect_quoted(what)
        try:
            compile_ere(token.text)
        except EreError as err:
            raise DetikSyntaxError(self.text, token.start + 1 + err.position, str(err)) from None
        return token.text

    def expect_end(self) -> None:
        token = self.peek()
        if token is not None:
            self.fail("unexpected text after the end of the sentence", token)

    def selector(self) -> Selector:
        kind = self.expect_type()
        self.expect_word("named")
        name = self.expect_pattern("a name pattern")
        return Selector(kind, name)


def _count(cur: _Cursor) -> CountSentence:
    # there is (0|1) T named 'x' | there are [less than|more than] N T named 'x'
    verb = cur.expect_word("is", "are")
    relation = Relation.EXACTLY
    if verb == "is":
        token = cur.peek()
        if token is None or token.quoted or token.text not in ("0", "1"):
            cur.fail("expected 0 or 1 after 'there is' (write 'there are <N>' for other counts)")
        cur.take()
        count = int(token.text)
    else:
        more_or_less = cur.accept_word("less", "more")
        if more_or_less is not None:
            cur.expect_word("than")
            relation = Relation.LESS_THAN if more_or_less == "less" else Relation.MORE_THAN
        count = cur.expect_number()
    selector = cur.selector()
    cur.expect_end()
    return CountSentence(selector, relation, count, text=cur.text)


def _property(cur: _Cursor) -> PropertySentence:
    # 'prop' is|matches 'value' for T named 'x'
    prop = cur.expect_quoted("a property name").text
    verb = cur.expect_word("is", "matches")
    after = cur.peek()
    if verb == "is" and after is not None and after.word in ("more", "less"):
        cur.fail("'is more than' and 'is less than' only exist in try sentences", after)
    if verb == "is":
        expected = cur.expect_quoted("the expected value").text
        comparison = Comparison.IS
    else:
        expected = cur.expect_pattern("a value pattern")
        comparison = Comparison.MATCHES
    cur.expect_word("for")
    selector = cur.selector()
    cur.expect_end()
    return PropertySentence(selector, prop, comparison, expected, text=cur.text)


def _try(cur: _Cursor) -> TryPropertySentence | FindSentence:
    cur.expect_word("most")
    times = cur.expect_number("a number of attempts")
    if times < 1:
        cur.fail("expected at least 1 attempt", cur.tokens[cur.index - 1])
    cur.expect_word("times")
    cur.expect_word("every")
    retry = Retry(times, cur.expect_interval())
    cur.expect_word("to")
    action = cur.expect_word("get", "find")
    if action == "get":
        return _try_get(cur, retry)
    return _try_find(cur, retry)


def _try_get(cur: _Cursor, retry: Retry) -> TryPropertySentence:
    # … to get T named 'x' and verify that 'prop' is|matches|is more than|is less than 'v'
    selector = cur.selector()
    cur.expect_word("and")
    cur.expect_word("verify")
    cur.expect_word("that")
    prop = cur.expect_quoted("a property name").text
    verb = cur.expect_word("is", "matches")
    comparison = Comparison.MATCHES
    if verb == "is":
        comparison = Comparison.IS
        more_or_less = cur.accept_word("more", "less")
        if more_or_less is not None:
            cur.expect_word("than")
            comparison = (
                Comparison.IS_MORE_THAN if more_or_less == "more" else Comparison.IS_LESS_THAN
            )
    if comparison is Comparison.MATCHES:
        expected = cur.expect_pattern("a value pattern")
    else:
        token = cur.expect_quoted("the expected value")
        expected = token.text
        if comparison in (Comparison.IS_MORE_THAN, Comparison.IS_LESS_THAN) and not (
            _INTEGER.fullmatch(expected)
        ):
            cur.fail(f"expected a whole number like '2' after '{comparison.value}'", token)
    cur.expect_end()
    return TryPropertySentence(retry, selector, prop, comparison, expected, text=cur.text)


def _try_find(cur: _Cursor, retry: Retry) -> FindSentence:
    # … to find N T named 'x' with 'prop' being|matching 'v'
    count = cur.expect_number()
    selector = cur.selector()
    cur.expect_word("with")
    prop = cur.expect_quoted("a property name").text
    verb = cur.expect_word("being", "matching")
    if verb == "being":
        expected = cur.expect_quoted("the expected value").text
        comparison = Comparison.IS
    else:
        expected = cur.expect_pattern("a value pattern")
        comparison = Comparison.MATCHES
    cur.expect_end()
    return FindSentence(retry, count, selector, prop, comparison, expected, text=cur.text)


def parse(text: str, *, keyword: Keyword | None = None) -> Sentence:
    """Parse one DETIK sentence.

    ``keyword`` restricts the grammar to the sentences of DETIK's ``verify``
    or ``try`` function, as the bash library does; ``None`` accepts both.
    Raises :class:`EmptySentence` (exit code 1) for a blank sentence and
    :class:`DetikSyntaxError` (exit code 2) for anything outside the grammar;
    never anything else.
    """
    text = text.strip()
    if not text:
        raise EmptySentence()
    cur = _Cursor(text, _tokenize(text))
    first = cur.peek()
    assert first is not None  # a non-blank text has a token
    if first.word == "at":
        if keyword == "verify":
            cur.fail("'at most …' sentences belong to try, not verify")
        cur.take()
        return _try(cur)
    if keyword == "try" and (first.quoted or first.word == "there"):
        cur.fail("try sentences start with 'at most <N> times every <N>s'")
    if first.word == "there":
        cur.take()
        return _count(cur)
    if first.quoted:
        return _property(cur)
    if keyword == "try":
        cur.fail("expected 'at'")
    if keyword == "verify":
        cur.fail("expected 'there' or a quoted property name")
    return cur.fail("expected 'there', 'at' or a quoted property name")
