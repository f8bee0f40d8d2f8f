"""DETIK — the sentence language platform teams validate clusters with.

`bats-detik <https://github.com/bats-core/bats-detik>`_ lets a BATS test say
``verify "there are 2 pods named 'metrics-server'"`` or ``try "at most 5 times
every 30s to find 2 pods named 'metrics-server' with 'status' being
'running'"``. clusterforge's add-ons carry such sentences and its validation
stage runs them, so the language is implemented here natively, with the same
grammar, the same kubectl queries and the same exit codes — but with parse
errors that point at the bad word and failures that say what was expected and
what the cluster had.

Three ways in, one implementation:

* Python: :func:`verify` returns a :class:`DetikResult`; :func:`assert_sentence`
  raises ``AssertionError`` for pytest; :func:`parse` gives the typed sentence.
* CLI: ``clusterforge detik [--kubeconfig K] [-n NS | -A] "sentence"``.
* bats: ``load "$(clusterforge detik-lib)"`` (:func:`library_path`), then
  ``run verify "…"`` / ``run try "…"``.

See docs/detik.md for the grammar and every difference from bats-detik.
"""

from clusterforge.checks.detik._ere import EreError, compile_ere
from clusterforge.checks.detik._errors import DetikSyntaxError, EmptySentence, SentenceError
from clusterforge.checks.detik._library import library_path
from clusterforge.checks.detik._parser import parse
from clusterforge.checks.detik._result import Attempt, DetikResult, ExitCode
from clusterforge.checks.detik._run import assert_sentence, verify
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
    column_for,
)

__all__ = [
    "Attempt",
    "Comparison",
    "CountSentence",
    "DetikResult",
    "DetikSyntaxError",
    "EmptySentence",
    "EreError",
    "ExitCode",
    "FindSentence",
    "Keyword",
    "PropertySentence",
    "Relation",
    "Retry",
    "Selector",
    "Sentence",
    "SentenceError",
    "TryPropertySentence",
    "assert_sentence",
    "column_for",
    "compile_ere",
    "library_path",
    "parse",
    "verify",
]
