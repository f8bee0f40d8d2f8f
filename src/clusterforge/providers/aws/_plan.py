"""What the aws core stage would deploy, for ``clusterforge plan`` — without calling AWS.

The plan names every stack in the order the stage deploys it, the resources
of its template, and the change set it would go through. Whether that change
set is a CREATE or an UPDATE (and whether an UPDATE is empty, and therefore
deleted unexecuted) depends on the account, which planning does not touch.
"""

from __future__ import annotations

from clusterforge.providers.aws._model import EksCluster, control_plane_stack, node_group_stack
from clusterforge.providers.aws._templates import control_plane_template, node_group_template


def _resources(template: dict[str, object]) -> str:
    resources = template["Resources"]
    assert isinstance(resources, dict)
    return ", ".join(f"{name} ({body['Type']})" for name, body in sorted(resources.items()))


def plan_lines(cluster: EksCluster) -> list[str]:
    lines = [
        f"aws stacks of {cluster.name} in {cluster.region}, in deploy order; each through a "
        "change set: CREATE when the stack is absent, UPDATE when present (an UPDATE without "
        "changes is deleted, nothing executed); a stack in ROLLBACK_COMPLETE is deleted first",
        f"  1. {control_plane_stack(cluster.name)} [control-plane]: "
        + _resources(control_plane_template(cluster)),
    ]
    for index, group in enumerate(cluster.node_groups, 2):
        lines.append(
            f"  {index}. {node_group_stack(cluster.name, group.name)} [node-group {group.name}, "
            f"after 1]: {_resources(node_group_template(cluster, group))}; {group.instance_type} "
            f"min {group.min} desired {group.desired} max {group.max}"
        )
    lines.append("teardown deletes the node-group stacks, then the control plane stack")
    return lines
