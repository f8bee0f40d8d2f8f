"""Workflow names: checked once, before a name becomes a directory.

A workflow's name becomes its run directory (``runs/<name>/``), its scratch
directory, every node id (``<name>-<fnv hash>``) and every attempt directory
(``<node id>.N``) — so a name like ``../../x``, ``/abs`` or ``..`` would put
logs, working directories and a truncated ``stdout.log`` outside the data
directory, and a name with a NUL byte or over the file-name limit would make
``mkdir`` raise deep inside the engine.

The rule is Kubernetes' for object names (Argo's Workflow is one): a DNS-1123
subdomain — lowercase letters, digits, ``-`` and ``.``, each dot-separated
part starting and ending with a letter or digit. That already excludes ``/``,
NUL, ``..``, ``.`` and leading dots. The length limit is tighter than
Kubernetes' 253: the longest file name derived from a workflow name is an
attempt directory, ``<name>-<10 digits>.<retry>``, and it must stay within
the 255-byte limit of Linux file systems; 200 leaves room for every suffix.
"""

from __future__ import annotations

from clusterforge.errors import InvalidInput

WORKFLOW_NAME_MAX = 200

_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def workflow_name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a workflow, or ``None`` when it can."""
    if not isinstance(name, str):
        return f"must be a string, not {type(name).__name__}"
    if not name:
        return "must not be empty"
    if "\x00" in name:
        return "must not contain a NUL byte"
    if len(name) > WORKFLOW_NAME_MAX:
        return f"is {len(name)} characters long; a workflow name has at most {WORKFLOW_NAME_MAX}"
    for label in name.split("."):
        if not label:
            return "must not start or end with '.' or contain '..'"
        if not set(label) <= _LABEL_CHARS:
            return "may contain only lowercase letters, digits, '-' and '.'"
        if label[0] == "-" or label[-1] == "-":
            return "must start and end with a letter or digit (also around each '.')"
    return None


def check_workflow_name(name: object, field: str = "metadata.name") -> str:
    """``name`` when it can name a workflow; otherwise :class:`InvalidInput` naming ``field``."""
    reason = workflow_name_problem(name)
    if reason is None:
        assert isinstance(name, str)
        return name
    return _refuse(name, field, reason)


def _refuse(name: object, field: str, reason: str) -> str:
    shown = repr(name)
    if len(shown) > 80:
        shown = shown[:60] + "…" + shown[-10:]
    raise InvalidInput(
        f"{field}: {shown} {reason}; a workflow name is a DNS-1123 subdomain "
        f"(lowercase letters, digits, '-' and '.', at most {WORKFLOW_NAME_MAX} characters), "
        "e.g. 'build-dev-1'"
    )
