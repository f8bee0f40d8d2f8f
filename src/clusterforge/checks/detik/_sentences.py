"""The DETIK sentences, as typed values.

bats-detik recognises six ``try`` and six ``verify`` regular expressions
(``lib/utils.bash``). Here each family is one frozen dataclass, so the
evaluator matches on a type instead of re-reading text, and a sentence can be
rendered back to its canonical wording (the parser's round-trip tests rely on
``parse(s.render()) == s``).

The original text is kept for messages but does not take part in equality:
``"There are 2 PODS named 'x'"`` and ``"there are 2 pods named 'x'"`` are the
same sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Literal

__all__ = [
    "Comparison",
    "CountSentence",
    "FindSentence",
    "Keyword",
    "PropertySentence",
    "Relation",
    "Retry",
    "Selector",
    "Sentence",
    "TryPropertySentence",
]

Keyword = Literal["verify", "try"]

# DETIK's aliases (build_k8s_request in lib/detik.bash); compared
# case-insensitively there because the caller has set `shopt -s nocasematch`.
_ALIASES: dict[str, str] = {
    "status": ".status.phase",
    "port": ".spec.ports[*].port",
    "targetport": ".spec.ports[*].targetPort",
}


class Relation(StrEnum):
    """How a count compares: ``there are [less|more than] N …``."""

    EXACTLY = "exactly"
    LESS_THAN = "less than"
    MORE_THAN = "more than"


class Comparison(StrEnum):
    """How a property value is checked against the expected value."""

    IS = "is"  # equal, ignoring case
    MATCHES = "matches"  # POSIX ERE search, case-sensitive
    IS_MORE_THAN = "is more than"  # integers, try only
    IS_LESS_THAN = "is less than"  # integers, try only


@dataclass(frozen=True)
class Selector:
    """Resources of one type whose names match an unanchored ERE."""

    type: str  # lower-cased, e.g. "pods", "svc", "settings.management.cattle.io"
    name: str  # POSIX ERE searched in metadata.name

    def render(self) -> str:
        return f"{self.type} named '{self.name}'"


@dataclass(frozen=True)
class Retry:
    """``at most <times> times every <interval>s``."""

    times: int
    interval: int  # seconds

    def render(self) -> str:
        return f"at most {self.times} times every {self.interval}s"


@dataclass(frozen=True)
class _Base:
    text: str = field(default="", compare=False, kw_only=True)


@dataclass(frozen=True)
class CountSentence(_Base):
    """verify: ``there is|are [less|more than] <N> <type> named '<re>'``."""

    selector: Selector
    relation: Relation
    count: int

    keyword: ClassVar[Keyword] = "verify"

    def render(self) -> str:
        if self.relation is Relation.EXACTLY:
            verb = "is" if self.count in (0, 1) else "are"
            return f"there {verb} {self.count} {self.selector.render()}"
        return f"there are {self.relation.value} {self.count} {self.selector.render()}"


@dataclass(frozen=True)
class PropertySentence(_Base):
    """verify: ``'<prop>' is|matches '<value>' for <type> named '<re>'``."""

    selector: Selector
    prop: str
    comparison: Comparison  # IS or MATCHES
    expected: str

    keyword: ClassVar[Keyword] = "verify"

    def render(self) -> str:
        return (
            f"'{self.prop}' {self.comparison.value} '{self.expected}' for {self.selector.render()}"
        )


@dataclass(frozen=True)
class TryPropertySentence(_Base):
    """try: ``… to get <type> named '<re>' and verify that '<prop>' <comparison> '<value>'``."""

    retry: Retry
    selector: Selector
    prop: str
    comparison: Comparison
    expected: str

    keyword: ClassVar[Keyword] = "try"

    def render(self) -> str:
        return (
            f"{self.retry.render()} to get {self.selector.render()} and verify that "
            f"'{self.prop}' {self.comparison.value} '{self.expected}'"
        )


@dataclass(frozen=True)
class FindSentence(_Base):
    """try: ``… to find <N> <type> named '<re>' with '<prop>' being|matching '<value>'``."""

    retry: Retry
    count: int
    selector: Selector
    prop: str
    comparison: Comparison  # IS ("being") or MATCHES ("matching")
    expected: str

    keyword: ClassVar[Keyword] = "try"

    def render(self) -> str:
        verb = "being" if self.comparison is Comparison.IS else "matching"
        return (
            f"{self.retry.render()} to find {self.count} {self.selector.render()} "
            f"with '{self.prop}' {verb} '{self.expected}'"
        )


Sentence = CountSentence | PropertySentence | TryPropertySentence | FindSentence


def column_for(prop: str) -> str:
    """The custom-columns expression for a property name or one of DETIK's aliases.

    Anything that is not an alias is passed to kubectl exactly as written, as
    DETIK does: kubectl itself accepts ``status.replicas`` as well as
    ``.status.replicas`` and ``{.status.replicas}`` (``RelaxedJSONPathExpression``
    in k8s.io/kubectl/pkg/cmd/get/customcolumn.go).
    """
    return _ALIASES.get(prop.lower(), prop)
