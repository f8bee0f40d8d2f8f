"""Stage 3 steps: install one add-on (catalog or the user's own) into the cluster.

Installs are idempotent (server-side apply), so re-running the stage changes
nothing that is already in place.
"""

from __future__ import annotations

from typing import Any

from clusterforge.spec import addon
from clusterforge.stages.steps.context import StepContext


def _catalog_values(ctx: StepContext, name: str, values: dict[str, Any]) -> dict[str, Any]:
    """Values the cluster itself decides (e.g. the autoscaler's node groups)."""
    if name == "cluster-autoscaler" and "nodeGroups" not in values:
        values = {
            **values,
            "nodeGroups": [
                {"name": g.name, "minSize": g.min, "maxSize": g.max}
                for g in ctx.spec.spec.node_groups
            ],
        }
    return values


def install_catalog(ctx: StepContext, name: str) -> str:
    from clusterforge import addons

    enabled = addon(ctx.spec, name)
    settings = enabled.settings
    values = _catalog_values(ctx, name, dict(settings.values or {}))
    result = addons.install(
        name,
        kubeconfig=ctx.kubeconfig(),
        values=values,
        registry=settings.registry,
        version=settings.version,
    )
    return f"add-on {name}: {'changed' if result.changed else 'unchanged'}"


def install_user(ctx: StepContext, name: str) -> str:
    from clusterforge import addons

    enabled = addon(ctx.spec, name)
    result = addons.install_user_addon(enabled, kubeconfig=ctx.kubeconfig())
    return f"add-on {name} ({enabled.source}): {'changed' if result.changed else 'unchanged'}"
