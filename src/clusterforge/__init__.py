"""clusterforge: a cluster factory.

A declarative cluster request becomes a tested Kubernetes cluster through four
stages (preflight, control plane and node groups, add-ons, validation), each an
Argo-dialect WorkflowTemplate. The same templates run on the embedded engine
(this package) and on Argo Workflows. See the README for the two commands that
set everything up and build a cluster.
"""

__version__ = "0.1.0"
