"""The catalog: the add-ons platform teams install on every cluster.

Each entry is one chart written for this project (``charts/<name>``), the
namespace it installs into, the add-ons that must be installed before it,
and the DETIK sentences that prove it works. The sentences follow the values:
:func:`checks` recomputes them for a given set of values (a team that runs
three CoreDNS replicas expects three pods, not the catalog's two).

Dependencies say what an add-on needs in the cluster before it can work:
everything that resolves names needs cluster DNS (CoreDNS); ingress-nginx's
admission webhook takes its serving certificate from cert-manager; the
cluster autoscaler reads pod resource usage through metrics-server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from clusterforge.addons._values import check_values, merge_values
from clusterforge.errors import InvalidInput

__all__ = ["CATALOG", "CHARTS_DIR", "Addon", "checks", "get"]

CHARTS_DIR = Path(__file__).parent / "charts"

# How often and how long the sentences wait for pods: 30 x 2s.
_TRY = "at most 30 times every 2s"

Values = Mapping[str, Any]


@dataclass(frozen=True)
class Addon:
    """A catalog add-on.

    ``default_values`` are the chart's own ``values.yaml`` (read-only);
    ``version`` is the version installed unless one is asked for (the chart's
    appVersion, the tag of its images); ``sentences`` are the DETIK checks for
    the default values, to be run with ``DETIK_CLIENT_NAMESPACE=<namespace>``.
    """

    name: str
    chart: Path
    namespace: str
    depends_on: tuple[str, ...]
    default_values: Mapping[str, Any]
    sentences: tuple[str, ...]
    version: str = ""
    description: str = field(default="", compare=False)


def _name(values: Values, default: str) -> str:
    return str(values.get("nameOverride") or default)


def _pods(count: Any, pattern: str) -> str:
    return f"{_TRY} to find {int(count)} pods named '{pattern}' with 'status' being 'running'"


def _coredns(v: Values) -> list[str]:
    name = _name(v, "coredns")
    service = v["service"]["name"]
    return [
        _pods(v["replicas"], f"^{name}-"),
        f"there is 1 deployment named '^{name}$'",
        f"there is 1 configmap named '^{name}$'",
        f"there is 1 service named '^{service}$'",
        f"'port' is '53,53,9153' for services named '^{service}$'",
    ]


def _metrics_server(v: Values) -> list[str]:
    name = _name(v, "metrics-server")
    found = [
        _pods(v["replicas"], f"^{name}-"),
        f"there is 1 deployment named '^{name}$'",
        f"there is 1 service named '^{name}$'",
    ]
    if v["apiService"]["create"]:
        found.append(
            f"{_TRY} to get apiservices named '^v1beta1\\.metrics\\.k8s\\.io$' and verify "
            "that '.status.conditions[0].status' is 'true'"
        )
    return found


def _cluster_autoscaler(v: Values) -> list[str]:
    name = _name(v, "cluster-autoscaler")
    return [
        _pods(v["replicas"], f"^{name}-"),
        f"there is 1 deployment named '^{name}$'",
        f"there is 1 serviceaccount named '^{name}$'",
    ]


def _fluent_bit(v: Values) -> list[str]:
    name = _name(v, "fluent-bit")
    return [
        f"there is 1 daemonset named '^{name}$'",
        f"there is 1 configmap named '^{name}$'",
        f"{_TRY} to get daemonsets named '^{name}$' and verify that "
        "'.status.numberReady' is more than '0'",
    ]


def _ingress_nginx(v: Values) -> list[str]:
    controller = f"{_name(v, 'ingress-nginx')}-controller"
    return [
        _pods(v["replicas"], f"^{controller}-"),
        f"there is 1 service named '^{controller}$'",
        f"'.spec.type' is '{v['service']['type']}' for services named '^{controller}$'",
        f"there is 1 ingressclass named '^{v['ingressClass']['name']}$'",
    ]


def _cert_manager(v: Values) -> list[str]:
    name = _name(v, "cert-manager")
    # The controller's pods are <name>-<hash>-<suffix>; the other components'
    # have one more dash-separated word, which this pattern excludes.
    found = [
        _pods(v["controller"]["replicas"], f"^{name}-[0-9a-z]+-[0-9a-z]+$"),
        _pods(v["cainjector"]["replicas"], f"^{name}-cainjector-"),
    ]
    if v["webhook"]["enabled"]:
        found.append(_pods(v["webhook"]["replicas"], f"^{name}-webhook-"))
    if v["crds"]["enabled"]:
        found.append("there are 4 customresourcedefinitions named '\\.cert-manager\\.io$'")
    return found


_SENTENCES: dict[str, Callable[[Values], list[str]]] = {
    "coredns": _coredns,
    "metrics-server": _metrics_server,
    "cluster-autoscaler": _cluster_autoscaler,
    "fluent-bit": _fluent_bit,
    "ingress-nginx": _ingress_nginx,
    "cert-manager": _cert_manager,
}

_LAYOUT: dict[str, tuple[str, tuple[str, ...]]] = {
    # name: (namespace, depends on)
    "coredns": ("kube-system", ()),
    "metrics-server": ("kube-system", ("coredns",)),
    "cert-manager": ("cert-manager", ("coredns",)),
    "fluent-bit": ("logging", ("coredns",)),
    "ingress-nginx": ("ingress-nginx", ("cert-manager",)),
    "cluster-autoscaler": ("kube-system", ("metrics-server",)),
}


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _load(name: str) -> Addon:
    chart = CHARTS_DIR / name
    meta = yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8"))
    values = yaml.safe_load((chart / "values.yaml").read_text(encoding="utf-8")) or {}
    namespace, depends_on = _LAYOUT[name]
    return Addon(
        name=name,
        chart=chart,
        namespace=namespace,
        depends_on=depends_on,
        default_values=_freeze(values),
        sentences=tuple(_SENTENCES[name](values)),
        version=str(meta["appVersion"]),
        description=str(meta.get("description", "")),
    )


#: The catalog add-ons by name.
CATALOG: Mapping[str, Addon] = MappingProxyType({name: _load(name) for name in _LAYOUT})


def get(name: str) -> Addon:
    """The catalog add-on ``name``; InvalidInput lists the catalog otherwise."""
    try:
        return CATALOG[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(CATALOG))
        raise InvalidInput(f"{name!r} is not a catalog add-on; the catalog has {known}") from None


def thaw(value: Any) -> Any:
    """A plain (mutable) copy of a frozen catalog value."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def checks(name: str, values: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The DETIK sentences proving ``name`` works when installed with ``values``.

    ``values`` are merged over the chart's defaults first, so only what
    differs needs saying. Run the sentences in the add-on's namespace.
    """
    addon = get(name)
    given = check_values(values, what=f"add-on {name!r}")
    merged = merge_values(thaw(addon.default_values), given)
    try:
        return tuple(_SENTENCES[name](merged))
    except (KeyError, TypeError, ValueError) as err:
        raise InvalidInput(
            f"add-on {name!r}: the values leave a field its checks need unusable ({err}); "
            "keep the chart's value types"
        ) from err
