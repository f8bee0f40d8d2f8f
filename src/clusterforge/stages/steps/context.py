"""What every step knows: the spec it works for, and where its cluster and artifacts are.

Steps run as separate processes (``clusterforge step …``), here or in an Argo
worker pod, and receive the validated spec as the ``CLUSTERFORGE_SPEC``
environment variable (JSON) — never through a shell. They parse it again, so a
hand-edited or corrupted value is rejected with the same field-path errors a
user gets from ``clusterforge spec validate``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from clusterforge.errors import InvalidInput
from clusterforge.spec import ClusterSpec, parse_spec

SPEC_ENV = "CLUSTERFORGE_SPEC"
ARTIFACTS_ENV = "CLUSTERFORGE_ARTIFACTS"
RERUN_ENV = "CLUSTERFORGE_RERUN"


@dataclass(frozen=True)
class StepContext:
    spec: ClusterSpec
    artifacts: Path | None
    rerun: bool

    @property
    def cluster(self) -> str:
        return self.spec.name

    @property
    def provider(self) -> str:
        return self.spec.spec.provider.type

    def kubeconfig(self) -> Path:
        from clusterforge.stages.clusters import kubeconfig_path

        return kubeconfig_path(self.cluster, self.provider)


def context_from_env() -> StepContext:
    """The step's context from its environment; a clear error if it is missing."""
    raw = os.environ.get(SPEC_ENV)
    if not raw:
        raise InvalidInput(
            f"{SPEC_ENV} is not set: step commands are run by the stage templates, "
            "which pass the cluster spec as JSON in that variable"
        )
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"{SPEC_ENV}: not valid JSON ({err.msg} at {err.pos})") from err
    spec = parse_spec(data, source=SPEC_ENV)
    artifacts = os.environ.get(ARTIFACTS_ENV)
    return StepContext(
        spec=spec,
        artifacts=Path(artifacts) if artifacts else None,
        rerun=os.environ.get(RERUN_ENV, "false") == "true",
    )
