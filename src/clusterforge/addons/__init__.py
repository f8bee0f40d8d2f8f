"""The add-on catalog: what makes a bare cluster production-ready, installed in order.

A cluster is handed over with the add-ons a platform team always runs —
cluster DNS (CoreDNS), metrics-server, the cluster autoscaler, a log shipper
(fluent-bit), ingress-nginx and cert-manager — each a Helm chart written for
this project (``charts/<name>``), with a ``global.registry`` override for
mirror registries, small resource requests, tolerations for system node
groups, its install namespace, the add-ons it depends on and the DETIK
sentences that prove it works (:data:`CATALOG`, :func:`checks`). Users add
their own: a chart (local, repository or OCI), a kustomize directory or plain
manifests (:class:`UserAddon`).

How they get there: ``helm template`` renders (:func:`render`), and ``kubectl
apply --server-side --field-manager=clusterforge`` applies (:func:`install`),
with no Helm release state in the cluster. Re-installing changes nothing
when nothing changed (``InstallResult.changed`` is False: a server-side
``kubectl diff`` found no difference); objects no longer rendered are pruned;
:func:`uninstall` removes everything labelled ``clusterforge.dev/addon=<name>``
and the namespaces the install created. :func:`install_order` gives the
dependency levels, each installable in parallel. docs/addons.md explains the
choices (why not ``helm upgrade --install``, why metrics-server's APIService
and the admission webhooks are off by default on simulated clusters).
"""

from clusterforge.addons._catalog import CATALOG, Addon, checks
from clusterforge.addons._install import InstallResult, install, install_user_addon, uninstall
from clusterforge.addons._manifest import ADDON_LABEL, FIELD_MANAGER, KEEP_LABEL, ObjectRef
from clusterforge.addons._order import install_order
from clusterforge.addons._render import render, render_user_addon
from clusterforge.addons._user import ChartSource, UserAddon

__all__ = [
    "ADDON_LABEL",
    "CATALOG",
    "FIELD_MANAGER",
    "KEEP_LABEL",
    "Addon",
    "ChartSource",
    "InstallResult",
    "ObjectRef",
    "UserAddon",
    "checks",
    "install",
    "install_order",
    "install_user_addon",
    "render",
    "render_user_addon",
    "uninstall",
]
