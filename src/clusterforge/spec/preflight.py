"""``spec.preflight``: what must hold before anything is built.

The preflight stage runs clusterforge's own checks for the provider (kwok:
tools at their pinned versions, free ports, free memory and disk, no cluster of
that name yet; aws: free IPs per subnet, CloudFormation exports, SSM
parameters) in parallel, each retried. This section sets the kwok thresholds
and adds the team's own checks.

An extra check is a command given as an **argv list** — ``[curl, -fsS,
https://mirror.internal/healthz]`` — run without a shell, so each element is one
argument whatever characters it holds; a check passes when the command exits
0. A shell string (``"curl … | grep …"``) is refused on purpose: write
``[sh, -c, "…"]`` if a shell is really wanted, and the choice is visible in the
spec. Note for servers accepting specs from the network: extra checks run
commands on the building machine, so decide who may submit them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from clusterforge.spec._base import SpecModel, problem, raise_problems, show
from clusterforge.spec.durations import Timeout
from clusterforge.spec.names import CheckName
from clusterforge.spec.retries import RetryPolicy

MAX_ARG = 4096


def _check_arg(value: str) -> str:
    if len(value) > MAX_ARG:
        raise problem(f"{show(value)} is longer than {MAX_ARG} characters")
    if "\x00" in value:
        raise problem(f"{show(value)} contains a NUL character, which no argument can hold")
    return value


Argument = Annotated[str, AfterValidator(_check_arg)]


def _check_program(argv: list[str]) -> list[str]:
    program = argv[0]
    if not program or program != program.strip() or " " in program:
        raise_problems(
            "command",
            [
                (
                    (0,),
                    f"{show(program)} is not a program name; give the command as a list, one "
                    "argument per element, e.g. [curl, -fsS, URL]",
                )
            ],
        )
    return argv


def _preflight_retries() -> RetryPolicy:
    return RetryPolicy(limit=2, interval="2s")


class PreflightCheck(SpecModel):
    """An extra preflight check: a command that must exit 0."""

    name: CheckName = Field(description="Unique name of the check (shown in the build tree).")
    command: Annotated[list[Argument], AfterValidator(_check_program)] = Field(
        min_length=1,
        max_length=256,
        description="The program and its arguments, one per element; run without a shell.",
    )
    retries: RetryPolicy = Field(
        default_factory=_preflight_retries,
        description="Retries when the command fails (default: 2 retries, 2s apart).",
    )
    timeout: Timeout = Field("60s", description="Longest one attempt may run (default 60s).")


class PreflightSpec(SpecModel):
    """Thresholds for clusterforge's own preflight checks, and extra checks."""

    checks: list[PreflightCheck] = Field(
        default_factory=list, max_length=100, description="Extra checks, run in parallel."
    )
    min_free_memory_mib: int = Field(
        1024,
        ge=0,
        le=1 << 30,
        alias="minFreeMemoryMiB",
        description="kwok: free memory (MiB) the machine must have before a build (default 1024).",
    )
    min_free_disk_mib: int = Field(
        2048,
        ge=0,
        le=1 << 30,
        alias="minFreeDiskMiB",
        description="kwok: free disk (MiB) under the clusters' directory (default 2048).",
    )

    @field_validator("checks")
    @classmethod
    def _unique_names(cls, checks: list[PreflightCheck]) -> list[PreflightCheck]:
        names = [check.name for check in checks]
        raise_problems(
            "checks",
            [
                ((i, "name"), f"{name!r} is used by an earlier check; names must be unique")
                for i, name in enumerate(names)
                if name in names[:i]
            ],
        )
        return checks
