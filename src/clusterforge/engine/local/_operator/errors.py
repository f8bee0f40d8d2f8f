"""Why a node ends in Error: raised inside a node's execution, caught where it
is recorded (the node gets phase Error and the message), never shown as a
traceback. Subclasses say which rule failed, so callers match on the type
and never on the text."""

from __future__ import annotations


class NodeFailure(Exception):
    """Raised inside a node's execution to end it in Error with a message."""


class TemplateNotFound(NodeFailure):
    """A task or step names a template (or templateRef) the snapshot does not have."""


class LoopError(NodeFailure):
    """withParam / withSequence did not give a list of items."""


class InputError(NodeFailure):
    """An input or output parameter has no value, or one its enum refuses."""
