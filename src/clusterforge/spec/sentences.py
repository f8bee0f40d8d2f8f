"""DETIK sentences in a spec, held as data.

``spec.validation.checks`` and an add-on's ``checks`` are sentences in the
DETIK language, e.g. ``verify "there are 2 pods named 'metrics-server'"`` or
``try "at most 5 times every 30s to find 2 pods named 'coredns' with 'status'
being 'running'"``. A spec holds the sentence itself, the text between the
quotes — ``there are 2 pods named 'metrics-server'`` — and which of ``verify``
or ``try`` applies follows from its first word, as in ``clusterforge detik``.

Each sentence is parsed with :mod:`clusterforge.checks.detik` while the spec
is validated, so a grammar mistake is reported at its field before anything is
built. A sentence reaches a step as a single argv element — quotes and ``;``
in it are DETIK syntax or data, never shell.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from clusterforge.spec._base import JsonSchemaHint, problem, show

MAX_SENTENCE = 1000


def _check_sentence(value: str) -> str:
    if not value.strip():
        raise problem("a check sentence must not be empty")
    if len(value) > MAX_SENTENCE:
        raise problem(f"{show(value)} is longer than {MAX_SENTENCE} characters")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise problem(f"{show(value)} contains a line break or control character; one line only")
    from clusterforge.checks.detik import DetikSyntaxError, SentenceError, parse

    try:
        parse(value)
    except DetikSyntaxError as err:
        near = err.sentence[err.column :][:25]
        where = f"at {near!r}" if near else "at the end"
        raise problem(f"{show(value)} is not a DETIK sentence: {where}, {err.reason}") from None
    except SentenceError as err:
        raise problem(f"{show(value)} is not a DETIK sentence: {err}") from None
    return value


Sentence = Annotated[
    str,
    AfterValidator(_check_sentence),
    JsonSchemaHint(
        {
            "minLength": 1,
            "maxLength": MAX_SENTENCE,
            "description": "A DETIK sentence, e.g. \"there are 2 pods named 'coredns'\".",
        }
    ),
]
