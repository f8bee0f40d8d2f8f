"""Run a sentence against a cluster: parse, query, judge, retry.

``verify`` sentences get one attempt. ``try`` sentences get up to ``at most
N times``, sleeping ``every Ns`` between attempts, and report the last one.
(bats-detik's loop skips the sleep after the first failure and sleeps once
more after the last; the number of sleeps is the same, we just put them
between attempts.) A client that cannot be started ends the loop at once.

Exit codes follow bats-detik exactly: 1 only for an empty sentence, 2 for a
syntax error, 3 for every failed check — including a property check that
found nothing, which bats-detik also reports as 3.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence

from clusterforge.checks.detik._errors import DetikSyntaxError, EmptySentence
from clusterforge.checks.detik._evaluate import Verdict, evaluate
from clusterforge.checks.detik._kubectl import (
    DEFAULT_TIMEOUT,
    ClientError,
    Target,
    query,
    resolve_target,
)
from clusterforge.checks.detik._parser import parse
from clusterforge.checks.detik._result import Attempt, DetikResult, ExitCode
from clusterforge.checks.detik._sentences import (
    CountSentence,
    FindSentence,
    Keyword,
    Sentence,
    TryPropertySentence,
)

__all__ = ["assert_sentence", "verify"]


def _fold_values(env: Mapping[str, str]) -> bool:
    # lib/detik.bash reads DETIK_REGEX_CASE_INSENSITIVE_PROPERTIES; its README
    # documents DETIK_CASE_INSENSITIVE_PROPERTIES. Honour both.
    names = ("DETIK_REGEX_CASE_INSENSITIVE_PROPERTIES", "DETIK_CASE_INSENSITIVE_PROPERTIES")
    return any((env.get(name) or "").lower() == "true" for name in names)


def _attempt(sentence: Sentence, target: Target) -> tuple[Verdict, tuple[str, ...]]:
    prop = None if isinstance(sentence, CountSentence) else sentence.prop
    try:
        result = query(target, sentence.selector.type, prop)
    except ClientError as err:
        return Verdict(False, str(err), fatal=err.fatal), err.argv
    env = target.env if target.env is not None else os.environ
    verdict = evaluate(sentence, result.rows, scope=target.scope(), fold_values=_fold_values(env))
    if isinstance(sentence, CountSentence) and not verdict.ok and verdict.details:
        # Say what state the counted items are in; the count itself used the
        # same query as bats-detik, this second one is only for the message.
        try:
            extra = query(target, sentence.selector.type, "status")
        except ClientError:
            return verdict, result.argv
        phases = {row.name: row.value or "" for row in extra.rows}
        verdict = evaluate(sentence, result.rows, scope=target.scope(), phases=phases)
    return verdict, result.argv


def verify(
    sentence: str,
    *,
    kubeconfig: str | os.PathLike[str] | None = None,
    namespace: str | None = None,
    all_namespaces: bool = False,
    keyword: Keyword | None = None,
    client: str | Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    on_attempt: Callable[[Attempt], None] | None = None,
) -> DetikResult:
    """Evaluate one DETIK sentence (a ``verify`` or a ``try`` one) and report.

    Never raises for the sentence or the cluster: an empty sentence, a syntax
    error and a failed check are all results (exit codes 1, 2, 3). Raises
    :class:`~clusterforge.errors.InvalidInput` only for bad arguments (a
    missing kubeconfig file, both ``namespace`` and ``all_namespaces``).

    ``namespace`` / ``all_namespaces`` override ``DETIK_CLIENT_NAMESPACE`` /
    ``DETIK_CLIENT_NAMESPACE_ALL``; ``client`` overrides ``DETIK_CLIENT_NAME``
    (default ``kubectl``); ``env`` replaces ``os.environ`` for both the DETIK
    variables and the client process. ``keyword`` accepts only ``verify`` or
    only ``try`` sentences, like DETIK's two functions. ``on_attempt`` is
    called after every attempt (for progress displays).
    """
    started = time.monotonic()
    text = sentence.strip()
    try:
        parsed = parse(text, keyword=keyword)
    except EmptySentence as err:
        return DetikResult(text, False, ExitCode.EMPTY, str(err))
    except DetikSyntaxError as err:
        return DetikResult(text, False, ExitCode.SYNTAX, str(err))
    target = resolve_target(
        kubeconfig=kubeconfig,
        namespace=namespace,
        all_namespaces=all_namespaces,
        client=client,
        env=env,
        timeout=timeout,
    )
    times, interval = 1, 0
    if isinstance(parsed, TryPropertySentence | FindSentence):
        times, interval = parsed.retry.times, parsed.retry.interval

    number = 0
    while True:
        number += 1
        verdict, argv = _attempt(parsed, target)
        if on_attempt is not None:
            on_attempt(Attempt(number, verdict.ok, verdict.message))
        if verdict.ok or verdict.fatal or number >= times:
            break
        sleep(interval)
    return DetikResult(
        sentence=text,
        ok=verdict.ok,
        exit_code=ExitCode.OK if verdict.ok else ExitCode.FAILED,
        message=verdict.message,
        attempts=number,
        keyword=parsed.keyword,
        details=verdict.details,
        command=argv,
        elapsed=time.monotonic() - started,
    )


def assert_sentence(
    sentence: str,
    *,
    kubeconfig: str | os.PathLike[str] | None = None,
    namespace: str | None = None,
    all_namespaces: bool = False,
    keyword: Keyword | None = None,
    client: str | Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
) -> DetikResult:
    """Like :func:`verify`, for tests: raise ``AssertionError`` unless the sentence holds.

    The assertion message is :meth:`DetikResult.describe`: the sentence, what
    was expected and what the cluster had.
    """
    result = verify(
        sentence,
        kubeconfig=kubeconfig,
        namespace=namespace,
        all_namespaces=all_namespaces,
        keyword=keyword,
        client=client,
        env=env,
        timeout=timeout,
        sleep=sleep,
    )
    if not result.ok:
        raise AssertionError(result.describe())
    return result
