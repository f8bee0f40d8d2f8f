"""Stage 3 steps: install one add-on (catalog or the user's own) into the cluster.

Installs are idempotent (server-side apply), so re-running the stage changes
nothing that is already in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clusterforge.spec import addon
from clusterforge.stages.steps.context import StepContext


def catalog_values(ctx: StepContext, name: str, values: dict[str, Any]) -> dict[str, Any]:
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
    values = catalog_values(ctx, name, dict(settings.values or {}))
    result = addons.install(
        name,
        kubeconfig=ctx.kubeconfig(),
        values=values,
        registry=settings.registry,
        version=settings.version,
    )
    return f"add-on {name}: {'changed' if result.changed else 'unchanged'}"


def _user_addon(ctx: StepContext, name: str) -> Any:
    """The spec's own add-on as the add-on package describes one."""
    from clusterforge import addons

    enabled = addon(ctx.spec, name)
    settings = enabled.settings
    chart = None
    if settings.chart is not None:
        source = settings.chart
        chart = addons.ChartSource(
            path=Path(source.path) if source.path else None,
            repo=source.repo,
            name=source.name,
            oci=source.oci,
            version=source.version,
        )
    return addons.UserAddon(
        name=name,
        chart=chart,
        kustomize=Path(settings.kustomize.path) if settings.kustomize else None,
        manifests=tuple(Path(p) for p in settings.manifests.paths) if settings.manifests else (),
        values=dict(settings.values or {}) or None,
        namespace=enabled.namespace,
        depends_on=tuple(settings.depends_on),
        sentences=tuple(settings.checks),
    )


def install_user(ctx: StepContext, name: str) -> str:
    from clusterforge import addons

    enabled = addon(ctx.spec, name)
    result = addons.install_user_addon(_user_addon(ctx, name), kubeconfig=ctx.kubeconfig())
    return f"add-on {name} ({enabled.source}): {'changed' if result.changed else 'unchanged'}"
