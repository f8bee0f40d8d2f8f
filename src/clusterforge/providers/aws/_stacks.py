"""CloudFormation stacks, deployed the careful way: change sets, events, clean retries.

:func:`deploy` converges one stack to a template:

* a stack left in ``ROLLBACK_COMPLETE`` by a failed create cannot be updated,
  only deleted — it is deleted (and waited for) before the new attempt;
* a stack in progress, or stuck in a ``*_FAILED`` state, is refused with what
  to do about it;
* otherwise a change set (``CREATE`` or ``UPDATE``) is created; one that
  "didn't contain changes" is deleted and nothing is executed — re-running a
  build with no change executes nothing;
* while the change set executes, the stack's new events are printed as they
  appear (the step's log is the progress), and a failure names the resource
  that failed first and CloudFormation's reason.

:func:`delete` removes a stack and waits for it, reporting the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clusterforge.errors import OperationFailed
from clusterforge.providers.aws._errors import aws_call, error_code, redact
from clusterforge.providers.aws._session import poll_seconds

Log = Callable[[str], None]

#: Stable states a build cannot proceed from, with what the user should do.
BLOCKING_STATES = {
    "CREATE_FAILED": "delete the stack, then build again",
    "ROLLBACK_FAILED": "delete the stack (retaining the resources that failed), then build again",
    "DELETE_FAILED": "delete the stack again (retaining the resources that failed)",
    "UPDATE_ROLLBACK_FAILED": "continue the update rollback (aws cloudformation "
    "continue-update-rollback), then build again",
    "UPDATE_FAILED": "wait for the rollback, then build again",
    "IMPORT_ROLLBACK_FAILED": "fix or delete the stack, then build again",
}
_FAILED_RESULTS = (
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "CREATE_FAILED",
    "DELETE_FAILED",
    "UPDATE_FAILED",
)
#: A stack that only has unexecuted CREATE change sets.
REVIEW = "REVIEW_IN_PROGRESS"
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
#: Longest a stack may take to settle (EKS control planes take 10-15 minutes).
STACK_TIMEOUT = 45 * 60.0


@dataclass(frozen=True)
class DeployResult:
    stack: str
    action: str  # "created", "updated" or "unchanged"
    status: str
    change_set: str | None


def _print(line: str) -> None:
    print(line, flush=True)


def stack_status(cfn: Any, name: str) -> str | None:
    """The stack's status, or None when there is no (undeleted) stack of that name."""
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as err:
        if error_code(err) == "ValidationError" and "does not exist" in str(err):
            return None
        with aws_call(f"describing stack {name}"):
            raise
    status: str = stacks[0]["StackStatus"] if stacks else "DELETE_COMPLETE"
    return None if status == "DELETE_COMPLETE" else status


class _Events:
    """Prints a stack's events once each, oldest first, as they appear."""

    def __init__(self, cfn: Any, stack: str, log: Log, ref: str | None = None) -> None:
        # ``ref`` (the stack id) still answers once the stack is deleted; its name does not.
        self.cfn, self.stack, self.log, self.ref = cfn, stack, log, ref or stack
        self.seen: set[str] = set()
        self.failures: list[str] = []

    def skip_existing(self) -> None:
        self.poll(show=False)

    def poll(self, *, show: bool = True) -> None:
        from botocore.exceptions import ClientError

        try:
            events = self.cfn.describe_stack_events(StackName=self.ref)["StackEvents"]
        except ClientError as err:
            if "does not exist" in str(err):
                return  # deleted between two polls: its last events went with it
            with aws_call(f"reading events of stack {self.stack}"):
                raise
        for event in reversed(events):
            if event["EventId"] in self.seen:
                continue
            self.seen.add(event["EventId"])
            if not show:
                continue
            status = event.get("ResourceStatus", "")
            reason = redact(event.get("ResourceStatusReason", "") or "")
            line = f"  {self.stack}: {event.get('LogicalResourceId', '')} "
            line += f"({event.get('ResourceType', '')}) {status}"
            self.log(line + (f" — {reason}" if reason else ""))
            if status.endswith("_FAILED") and event.get("LogicalResourceId") != self.stack:
                self.failures.append(
                    f"{event.get('LogicalResourceId')} ({event.get('ResourceType')}): {reason}"
                )


def _wait(cfn: Any, name: str, events: _Events, done: Callable[[str | None], bool]) -> str | None:
    deadline = time.monotonic() + STACK_TIMEOUT
    while True:
        events.poll()
        status = stack_status(cfn, name)
        if done(status):
            return status
        if time.monotonic() > deadline:
            raise OperationFailed(
                f"stack {name} still {status} after {STACK_TIMEOUT / 60:.0f} minutes"
            )
        time.sleep(poll_seconds())


def _failure(name: str, status: str | None, events: _Events) -> OperationFailed:
    first = events.failures[0] if events.failures else "no resource reported a reason"
    return OperationFailed(f"stack {name} ended {status}: first failure {first}")


def _clear_unfinished_create(cfn: Any, name: str, status: str, log: Log) -> None:
    """A failed create (ROLLBACK_COMPLETE) or one never executed (REVIEW_IN_PROGRESS)
    can only be deleted; it is, before the stack is created again."""
    why = "a failed create" if status == "ROLLBACK_COMPLETE" else "a create never executed"
    log(f"stack {name} is {status} from {why}: deleting it before retrying")
    delete(cfn, name, log)


def _change_set(cfn: Any, name: str, body: str, tags: dict[str, str], kind: str) -> tuple[str, str]:
    change_set = f"clusterforge-{int(time.time() * 1000)}"
    with aws_call(f"creating change set for stack {name}"):
        cfn.create_change_set(
            StackName=name,
            ChangeSetName=change_set,
            ChangeSetType=kind,
            TemplateBody=body,
            Capabilities=["CAPABILITY_IAM"],
            Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        )
    deadline = time.monotonic() + STACK_TIMEOUT
    while True:
        with aws_call(f"describing change set {change_set}"):
            answer = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        if answer["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return change_set, answer["Status"] + ":" + str(answer.get("StatusReason", ""))
        if time.monotonic() > deadline:
            raise OperationFailed(f"change set {change_set} of {name} never became ready")
        time.sleep(poll_seconds())


def deploy(cfn: Any, name: str, body: str, tags: dict[str, str], log: Log = _print) -> DeployResult:
    """Converge stack ``name`` to template ``body`` through a change set."""
    status = stack_status(cfn, name)
    if status in ("ROLLBACK_COMPLETE", REVIEW):
        _clear_unfinished_create(cfn, name, status, log)
        status = None
    if status is not None and status.endswith("_IN_PROGRESS"):
        raise OperationFailed(f"stack {name} is {status}: wait until it settles, then retry")
    if status in BLOCKING_STATES:
        raise OperationFailed(f"stack {name} is {status}: {BLOCKING_STATES[status]}")
    kind = "CREATE" if status is None else "UPDATE"
    events = _Events(cfn, name, log)
    if kind == "UPDATE":
        events.skip_existing()
    change_set, outcome = _change_set(cfn, name, body, tags, kind)
    state, _, reason = outcome.partition(":")
    if state == "FAILED":
        with aws_call(f"deleting empty change set {change_set}"):
            cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
        if any(marker in reason for marker in _NO_CHANGES):
            log(f"stack {name}: no changes, change set {change_set} deleted, nothing executed")
            return DeployResult(name, "unchanged", str(status), None)
        raise OperationFailed(redact(f"change set {change_set} of stack {name} failed: {reason}"))
    log(f"stack {name}: executing change set {change_set} ({kind})")
    with aws_call(f"executing change set {change_set}"):
        cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    final = _wait(
        cfn,
        name,
        events,
        lambda s: s is not None and not s.endswith("_IN_PROGRESS") and s != "REVIEW_IN_PROGRESS",
    )
    if final in _FAILED_RESULTS:
        raise _failure(name, final, events)
    log(f"stack {name}: {final}")
    return DeployResult(name, "created" if kind == "CREATE" else "updated", str(final), change_set)


def delete(cfn: Any, name: str, log: Log = _print) -> bool:
    """Delete stack ``name`` and wait until it is gone; False when there was none."""
    status = stack_status(cfn, name)
    if status is None:
        return False
    with aws_call(f"describing stack {name}"):
        stack_id = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackId"]
    events = _Events(cfn, name, log, stack_id)
    events.skip_existing()
    log(f"stack {name}: deleting (was {status})")
    with aws_call(f"deleting stack {name}"):
        cfn.delete_stack(StackName=name)
    final = _wait(cfn, name, events, lambda s: s is None or s == "DELETE_FAILED")
    if final == "DELETE_FAILED":
        raise _failure(name, final, events)
    log(f"stack {name}: deleted")
    return True
