"""Argo Workflows on a Kubernetes API: the host executor (and, later, the backend).

:mod:`.host_executor` runs the pods Argo's real workflow-controller creates
on a kwok management cluster as host processes, so the controller
orchestrates real steps on this machine. It runs as its own process
(``python -m clusterforge.engine.argo.host_executor``), started by
``clusterforge argo up``.
"""
