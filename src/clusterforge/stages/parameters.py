"""From a validated cluster spec to the workflow parameters of the stage library.

The spec package gives the parameters that describe the cluster
(:func:`clusterforge.spec.to_parameters`); a build adds what belongs to the
run: where its artifacts go, whether it re-runs on an existing cluster, the
preflight retry budget and the worker image recorded on each step. Nothing here
is ever spliced into a shell command: the templates pass parameters as argv
elements and environment variables only.
"""

from __future__ import annotations

from pathlib import Path

from clusterforge.spec import ClusterSpec, to_parameters

WORKER_IMAGE = "clusterforge/worker:0.1.0"
PREFLIGHT_RETRIES = 2


def build_parameters(
    spec: ClusterSpec, *, artifacts_dir: Path, rerun: bool = False
) -> dict[str, str]:
    """All parameters of the ``cluster-build`` workflow (and of every stage) for a spec."""
    params = to_parameters(spec)
    # One retry budget for the preflight template: the largest any check asks for.
    limits = [check.retries.limit for check in spec.spec.preflight.checks]
    params.update(
        {
            "artifacts-dir": str(artifacts_dir),
            "rerun": "true" if rerun else "false",
            "preflight-retries": str(max([PREFLIGHT_RETRIES, *limits])),
            "worker-image": WORKER_IMAGE,
        }
    )
    return dict(sorted(params.items()))
