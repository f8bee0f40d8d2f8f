"""The stage library: Argo WorkflowTemplates shipped with clusterforge.

``preflight``, ``cluster-core``, ``addons``, ``validation``, the master
``cluster-build`` that composes them by ``templateRef``, and
``cluster-teardown``. Steps call ``clusterforge step …`` and standard tools
only, so the same files run in a worker container on Argo and on this host.
Every spec value reaches a step as an argv element or an environment variable.
"""

from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent

__all__ = ["TEMPLATE_DIR"]
