"""``spec.validation``: what must pass before the cluster is handed over.

The validation stage always runs clusterforge's core checks (nodes Ready with
their labels, kube-system Running, the API answering) and the checks of every
enabled add-on. This section adds the team's own: DETIK sentences, ``.bats``
files (which may ``load`` clusterforge's DETIK library), and how hard to try —
each check is retried up to ``retries.limit`` times, ``retries.interval``
apart, because a freshly built cluster converges over a few seconds.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from clusterforge.spec._base import SpecModel, problem, show
from clusterforge.spec.paths import LocalPath
from clusterforge.spec.retries import RetryPolicy
from clusterforge.spec.sentences import Sentence


def _check_bats(value: str) -> str:
    if not value.endswith(".bats"):
        raise problem(f"{show(value)} is not a .bats file; the name must end in '.bats'")
    return value


BatsFile = Annotated[LocalPath, AfterValidator(_check_bats)]


def _validation_retries() -> RetryPolicy:
    return RetryPolicy(limit=5, interval="2s")


class ValidationSpec(SpecModel):
    """Extra checks for the validation stage, and how each check is retried."""

    checks: list[Sentence] = Field(
        default_factory=list,
        max_length=200,
        description="Extra DETIK sentences, e.g. \"there are 2 pods named 'web'\".",
    )
    bats_files: list[BatsFile] = Field(
        default_factory=list,
        max_length=100,
        description="Extra .bats files to run (relative to the spec file).",
    )
    retries: RetryPolicy = Field(
        default_factory=_validation_retries,
        description="Retries of every validation check (default: 5 retries, 2s apart).",
    )
