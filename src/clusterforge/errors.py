"""Errors a user can cause, and how they reach the user.

Every layer raises a subclass of :class:`UserError` for a mistake the user can
fix (a bad file, a bad field, a missing tool). The CLI and the HTTP API turn
one of these into a single clear message and a non-zero exit code or a 4xx —
never a traceback. Anything else is a bug and is allowed to show its stack.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix; ``str(err)`` is the whole message to show.

    ``exit_code`` is what the CLI exits with: 2 for invalid input (like a
    usage error), 1 for an operation that ran and failed.
    """

    exit_code: int = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InvalidInput(UserError):
    """The input (file, field, flag, payload) is malformed or inconsistent."""

    exit_code = 2


class AlreadyExists(InvalidInput):
    """A name the user gave (or had generated) is taken; callers match on this
    type, never on the message (a server retries a clash of generated names)."""


class NotFound(UserError):
    """A named thing (workflow, cluster, template, node) does not exist."""

    exit_code = 1


class OperationFailed(UserError):
    """An operation ran and failed for a reason outside the user's input."""

    exit_code = 1


class UpstreamFailed(OperationFailed):
    """A service this one depends on (an artifact repository) could not be reached or
    refused the request; the message names the service, never its credentials. The
    HTTP API answers 502 (Bad Gateway): nothing the caller sent was wrong."""
