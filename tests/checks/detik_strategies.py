"""Hypothesis strategies for DETIK sentences.

``sentences()`` draws typed sentences; ``spelled(sentence)`` renders one the
way a person might type it — keywords in any case, any whitespace between
words — so tests can check that the parser reads it back as the same value.
"""

from __future__ import annotations

from hypothesis import strategies as st

from clusterforge.checks.detik import (
    Comparison,
    CountSentence,
    FindSentence,
    PropertySentence,
    Relation,
    Retry,
    Selector,
    Sentence,
    TryPropertySentence,
)

types = st.from_regex(r"[a-z][0-9a-z.]{1,15}", fullmatch=True)

# Valid POSIX EREs built from pieces, so generated names always parse.
_ERE_ATOMS = st.sampled_from(
    ["nginx", "metrics-server", "a", "[a-z0-9]", "[[:digit:]]", "[^-]", ".", r"\.", "(x|y)"]
)
_ERE_QUANTIFIERS = st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,3}"])
patterns = st.builds(
    lambda start, parts, end: start + "".join(parts) + end,
    st.sampled_from(["", "^"]),
    st.lists(st.tuples(_ERE_ATOMS, _ERE_QUANTIFIERS).map("".join), min_size=1, max_size=4),
    st.sampled_from(["", "$"]),
)

# Quoted values: anything but a quote, not empty.
values = st.text(st.characters(blacklist_characters="'", blacklist_categories=["Cs"]), min_size=1)
props = st.one_of(
    st.sampled_from(["status", "port", "targetPort", ".status.phase", "spec.replicas"]), values
)
counts = st.integers(min_value=0, max_value=10_000)
integers = st.integers(min_value=-1000, max_value=1000).map(str)
retries = st.builds(
    Retry, st.integers(min_value=1, max_value=100), st.integers(min_value=0, max_value=3600)
)
selectors = st.builds(Selector, types, patterns)


def _count() -> st.SearchStrategy[Sentence]:
    exact = st.builds(CountSentence, selectors, st.just(Relation.EXACTLY), counts)
    relative = st.builds(
        CountSentence,
        selectors,
        st.sampled_from([Relation.LESS_THAN, Relation.MORE_THAN]),
        counts,
    )
    return st.one_of(exact, relative)


def _property() -> st.SearchStrategy[Sentence]:
    return st.one_of(
        st.builds(PropertySentence, selectors, props, st.just(Comparison.IS), values),
        st.builds(PropertySentence, selectors, props, st.just(Comparison.MATCHES), patterns),
    )


def _try_property() -> st.SearchStrategy[Sentence]:
    return st.one_of(
        st.builds(TryPropertySentence, retries, selectors, props, st.just(Comparison.IS), values),
        st.builds(
            TryPropertySentence, retries, selectors, props, st.just(Comparison.MATCHES), patterns
        ),
        st.builds(
            TryPropertySentence,
            retries,
            selectors,
            props,
            st.sampled_from([Comparison.IS_MORE_THAN, Comparison.IS_LESS_THAN]),
            integers,
        ),
    )


def _find() -> st.SearchStrategy[Sentence]:
    return st.one_of(
        st.builds(FindSentence, retries, counts, selectors, props, st.just(Comparison.IS), values),
        st.builds(
            FindSentence, retries, counts, selectors, props, st.just(Comparison.MATCHES), patterns
        ),
    )


def sentences() -> st.SearchStrategy[Sentence]:
    return st.one_of(_count(), _property(), _try_property(), _find())


@st.composite
def spelled(draw: st.DrawFn, sentence: Sentence) -> str:
    """``sentence.render()`` with random case and whitespace outside the quotes."""
    out: list[str] = [draw(st.sampled_from(["", " ", "\t", "\n "]))]
    quoted = False
    for char in sentence.render():
        if char == "'":
            quoted = not quoted
            out.append(char)
        elif quoted:
            out.append(char)
        elif char == " ":
            out.append(draw(st.sampled_from([" ", "  ", "\t", " \n "])))
        else:
            out.append(char.upper() if draw(st.booleans()) else char.lower())
    out.append(draw(st.sampled_from(["", " ", "\n"])))
    return "".join(out)


# Word soup: sentence-like text that wanders off the grammar at random places.
_WORDS = [
    "there", "is", "are", "less", "more", "than", "named", "for", "matches", "at", "most",
    "times", "every", "to", "get", "find", "and", "verify", "that", "with", "being",
    "matching", "pods", "svc", "0", "1", "2", "30s", "30", "s", "'x'", "'status'", "''", "'",
    "'[a'", "'\\d'", "named'x'", "-1", "0x", "é",
]  # fmt: skip
word_soup = st.lists(st.sampled_from(_WORDS), max_size=25).map(" ".join)
