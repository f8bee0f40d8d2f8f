"""What a token may do: ``read``, ``build`` or ``admin``.

A token used to be all-powerful, and a cluster spec can carry commands the
server runs (``spec.preflight.checks[].command``; ``spec.validation.batsFiles``
are bash scripts): anyone who could start a build could run anything as the
server's user. So each token now has a role:

* ``read`` — the read endpoints (builds, logs, events, sensors, metrics);
* ``build`` — also start builds and stages, deliver webhook events, retry,
  stop and destroy — but not with a spec that carries commands of its own;
* ``admin`` — everything, including specs with commands.

The token file stays backwards compatible: a line with only a token is an
``admin`` token (what every token was before); ``TOKEN ROLE`` gives another
role. Tokens from ``CLUSTERFORGE_TOKENS`` are ``admin``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clusterforge.api.errors import ApiError

__all__ = ["ROLES", "check_role", "commands_in_spec", "require_admin_for_commands"]

ROLES = ("read", "build", "admin")


def check_role(have: str, need: str) -> None:
    """403 unless a ``have`` token may do what ``need`` allows."""
    if ROLES.index(have) < ROLES.index(need):
        raise ApiError(
            403,
            "forbidden",
            f"this token's role is {have!r}; this needs {need!r} "
            "(roles are set per token in the server's --token-file: 'TOKEN ROLE')",
        )


def commands_in_spec(data: Any) -> str | None:
    """The field of the first user-defined command in a spec (or partial spec), or None."""
    spec = data.get("spec") if isinstance(data, Mapping) else None
    if not isinstance(spec, Mapping):
        return None
    preflight = spec.get("preflight")
    checks = preflight.get("checks") if isinstance(preflight, Mapping) else None
    if isinstance(checks, list) and checks:
        return "spec.preflight.checks"
    validation = spec.get("validation")
    bats = validation.get("batsFiles") if isinstance(validation, Mapping) else None
    if bats:
        return "spec.validation.batsFiles"
    return None


def require_admin_for_commands(role: str, data: Any) -> None:
    """403 naming the field when a non-admin token sends a spec that runs its own commands."""
    field = commands_in_spec(data)
    if field is not None and role != "admin":
        raise ApiError(
            403,
            "forbidden",
            f"{field}: runs commands on the server, which needs a token with role 'admin' "
            f"(this token's role is {role!r}); leave the commands out or use an admin token",
            field=field,
        )
