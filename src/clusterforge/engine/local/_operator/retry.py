"""Retries: a node of type Retry whose children are attempts ``name(0)``, ``name(1)``…

:func:`retry_verdict` is Argo's rule as a pure function (why *not* to retry,
or ``""``); :class:`RetryLoop` runs attempts until the verdict says stop. The
loop reads its attempts back from the journal, so a resumed run continues
with the attempt after the last fulfilled one.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from clusterforge.engine.local._operator.context import Call, Context, Executes
from clusterforge.engine.local._operator.runtime import Runtime
from clusterforge.engine.local.durations import backoff_delay, parse_duration
from clusterforge.engine.local.values import parameter_text, substitute_tree
from clusterforge.engine.phases import FAILED, FULFILLED, RETRY_DEADLINE_MESSAGE
from clusterforge.store import NodeRecord
from clusterforge.workflow.expressions import ExpressionError, go_json, substitute

JSON = dict[str, Any]

# Argo's message when the next backoff would end past ``maxDuration``.
BACKOFF_PAST_DEADLINE_MESSAGE = "Backoff would exceed max duration limit"

_RETRIED_PHASES = {
    "Always": {"Failed", "Error"},
    "OnFailure": {"Failed"},
    "OnError": {"Error"},
}


@dataclass(frozen=True)
class RetryPolicy:
    """A template's ``retryStrategy``, its tags substituted."""

    limit: int | None
    policy: str
    backoff: JSON
    expression: str = ""

    @classmethod
    def of(cls, strategy: JSON, values: dict[str, str]) -> RetryPolicy:
        """Raises ``ValueError`` / ``ExpressionError`` for a ``limit`` that is no number."""
        raw = strategy.get("limit")
        limit = int(substitute(parameter_text(raw), values)) if raw is not None else None
        return cls(
            limit=limit,
            policy=strategy.get("retryPolicy") or "OnFailure",
            backoff=substitute_tree(strategy.get("backoff") or {}, values),
            # As Argo, the template's own tags ({{inputs.parameters.x}}) are
            # substituted first; lastRetry.* is read when an attempt fails.
            expression=substitute(strategy.get("expression") or "", values),
        )


def retry_verdict(
    policy: RetryPolicy, last: NodeRecord, retries_done: int, first_start: float, now: float
) -> str:
    """Why the failed attempt ``last`` is not retried, or ``""`` to retry it."""
    if policy.limit is not None and retries_done >= policy.limit:
        return "No more retries left"
    transient = {"Error"} if "engine restarted" in last.message else set()
    allowed = _RETRIED_PHASES.get(policy.policy, {"Failed"})
    if policy.policy == "OnTransientError":
        allowed = transient
    if last.phase not in allowed:
        return f"retryPolicy {policy.policy} does not retry a node in phase {last.phase}"
    max_duration = policy.backoff.get("maxDuration")
    if max_duration:
        limit = parse_duration(max_duration, field="retryStrategy.backoff.maxDuration")
        if now - first_start > limit:
            return RETRY_DEADLINE_MESSAGE
        # Argo's processNodeRetries: a wait that would end past the limit is not
        # waited out — the retry would be refused once it ended anyway.
        waited_until = (last.finished_at or now) + backoff_delay(policy.backoff, retries_done + 1)
        if waited_until > first_start + limit:
            return BACKOFF_PAST_DEADLINE_MESSAGE
    if policy.expression:
        duration = (last.finished_at or now) - (last.started_at or now)
        scope = {
            "lastRetry.exitCode": str(last.exit_code if last.exit_code is not None else -1),
            "lastRetry.status": last.phase,
            "lastRetry.duration": f"{duration:.0f}",
            "lastRetry.message": last.message,
        }
        result = substitute("{{=" + policy.expression + "}}", scope, missing="error")
        if result.strip().lower() != "true":
            return f"retryStrategy.expression {policy.expression!r} evaluated to {result}"
    return ""


class RetryLoop:
    """The attempts of one retried template call."""

    def __init__(
        self, rt: Runtime, walk: Executes, name: str, display: str, call: Call, ctx: Context
    ) -> None:
        self.rt, self.walk = rt, walk
        self.name, self.display, self.call, self.ctx = name, display, call, ctx
        template = call.template
        self.node = rt.journal.node(name, display, "Retry", ctx, template.get("name", ""))

    async def run(self, values: dict[str, str]) -> NodeRecord:
        node = self.node
        try:
            policy = RetryPolicy.of(self.call.template["retryStrategy"], values)
        except (ValueError, ExpressionError) as err:
            return self.rt.journal.finish(node, "Error", f"retryStrategy.limit: {err}")
        first_start = node.started_at or time.time()
        while True:
            attempts = self.rt.journal.children(node)
            last = attempts[-1] if attempts else None
            if last is not None and last.id in self.rt.daemons.daemoned:
                # A daemoned attempt: the Retry node is daemoned too until its scope ends.
                self.rt.daemons.daemoned.add(node.id)
                return node
            if last is not None and last.phase in FULFILLED:
                ended = self._ended(policy, last, len(attempts) - 1, first_start)
                if ended is not None:
                    return ended
                await self._backoff(policy, len(attempts))
            k = len(attempts) if last is None or last.phase in FULFILLED else len(attempts) - 1
            previous = attempts[k - 1] if k > 0 else None
            attempt_ctx = Context(
                node.boundary_id,
                node.id,
                self.ctx.semaphores,
                {**self.ctx.extra_vars, "retries": str(k), **last_retry_vars(previous)},
            )
            await self.walk.execute(
                f"{self.name}({k})", f"{self.display}({k})", self.call, attempt_ctx, retry_attempt=k
            )

    def _ended(
        self, policy: RetryPolicy, last: NodeRecord, retries_done: int, first_start: float
    ) -> NodeRecord | None:
        """The Retry node, finished, if ``last`` ends the loop."""
        journal, node = self.rt.journal, self.node
        if last.phase not in FAILED:
            node.outputs, node.exit_code = last.outputs, last.exit_code
            return journal.finish(node, last.phase, last.message)
        if self.rt.flags.shutdown or self.rt.flags.deadline_hit:
            return journal.finish(node, last.phase, last.message)
        reason = retry_verdict(policy, last, retries_done, first_start, time.time())
        if reason:
            node.outputs, node.exit_code = last.outputs, last.exit_code
            return journal.finish(node, last.phase, last.message or reason)
        return None

    async def _backoff(self, policy: RetryPolicy, retry: int) -> None:
        delay = backoff_delay(policy.backoff, retry)
        if delay > 0:
            self.node.message = f"Backoff for {delay:g} seconds"
            self.rt.journal.save(self.node, event=False)
            await asyncio.sleep(delay)


def last_retry_vars(previous: NodeRecord | None) -> dict[str, str]:
    """``lastRetry.*`` in an attempt's body, as Argo's processNodeRetries injects them:
    the previous attempt's exit code, phase, duration (seconds) and message; for the
    first attempt ``0``, ``""``, ``0``, ``""`` so expressions over them still resolve."""
    if previous is None:
        return {
            "lastRetry.exitCode": "0",
            "lastRetry.status": "",
            "lastRetry.duration": "0",
            "lastRetry.message": "",
        }
    started, finished = previous.started_at, previous.finished_at
    seconds = (finished - started) if started and finished else 0.0
    code = previous.exit_code
    return {
        "lastRetry.exitCode": "0" if code is None else str(code),
        "lastRetry.status": previous.phase,
        "lastRetry.duration": go_json(float(seconds)),
        "lastRetry.message": previous.message,
    }
