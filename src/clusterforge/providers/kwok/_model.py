"""The provider's vocabulary: node groups in, cluster descriptions out.

These are deliberately plain frozen dataclasses: the spec package maps a
user's cluster request onto :class:`NodeGroup` values, and everything this
provider needs to know about a node group is here. Validation happens at
construction so that a bad name or taint fails before any process starts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from clusterforge.errors import InvalidInput
from clusterforge.providers.kwok._instances import instance_type

# RFC 1123 label: what Kubernetes accepts as a name part, and safe as a
# directory name, a kubeconfig context and a process argument.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_CLUSTER_NAME_MAX = 40
# A label key: optional DNS-subdomain prefix, then a name of [A-Za-z0-9._-].
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")

DEFAULT_ZONES: tuple[str, ...] = ("local-1a", "local-1b", "local-1c")
TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def validate_cluster_name(name: str) -> str:
    """A cluster name must be a DNS-1123 label of at most 40 characters."""
    if not _DNS_LABEL.fullmatch(name) or len(name) > _CLUSTER_NAME_MAX:
        raise InvalidInput(
            f"invalid cluster name {name!r}: use lower-case letters, digits and '-', "
            f"starting and ending with a letter or digit, at most {_CLUSTER_NAME_MAX} "
            "characters (a DNS-1123 label), e.g. 'dev-1'"
        )
    return name


def validate_label_key(key: str, where: str) -> None:
    prefix, _, name = key.rpartition("/")
    if not _LABEL_NAME.fullmatch(name) or (prefix and not _LABEL_PREFIX.fullmatch(prefix)):
        raise InvalidInput(
            f"{where}: {key!r} is not a valid label key ([prefix/]name, name of at most "
            "63 letters, digits, '-', '_' or '.')"
        )


def validate_label_value(value: str, where: str) -> None:
    if not _LABEL_VALUE.fullmatch(value):
        raise InvalidInput(
            f"{where}: {value!r} is not a valid label value (at most 63 letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit)"
        )


@dataclass(frozen=True)
class Taint:
    """A node taint, as in ``kubectl taint``."""

    key: str
    value: str = ""
    effect: TaintEffect = "NoSchedule"

    def __post_init__(self) -> None:
        validate_label_key(self.key, "taint key")
        validate_label_value(self.value, f"taint {self.key} value")
        if self.effect not in _EFFECTS:
            raise InvalidInput(
                f"taint {self.key}: effect {self.effect!r} must be one of {', '.join(_EFFECTS)}"
            )

    def manifest(self) -> dict[str, str]:
        body = {"key": self.key, "effect": self.effect}
        if self.value:
            body["value"] = self.value
        return body


@dataclass(frozen=True)
class NodeGroup:
    """A set of identical fake nodes, spread round-robin over ``zones``."""

    name: str
    instance_type: str = "m5.large"
    count: int = 1
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    zones: tuple[str, ...] = DEFAULT_ZONES

    def __post_init__(self) -> None:
        if not _DNS_LABEL.fullmatch(self.name) or len(self.name) > 50:
            raise InvalidInput(
                f"invalid node group name {self.name!r}: use a DNS-1123 label "
                "(lower-case letters, digits, '-') of at most 50 characters"
            )
        instance_type(self.instance_type)
        if self.count < 0:
            raise InvalidInput(f"node group {self.name}: count must be 0 or more, not {self.count}")
        if not self.zones:
            raise InvalidInput(f"node group {self.name}: zones must name at least one zone")
        for key, value in self.labels.items():
            validate_label_key(key, f"node group {self.name} label")
            validate_label_value(value, f"node group {self.name} label {key}")
        for zone in self.zones:
            validate_label_value(zone, f"node group {self.name} zone")
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))
        object.__setattr__(self, "taints", tuple(self.taints))
        object.__setattr__(self, "zones", tuple(self.zones))


ClusterState = Literal["running", "stopped", "degraded"]


@dataclass(frozen=True)
class ClusterInfo:
    """One local cluster as ``cluster list`` shows it."""

    name: str
    directory: Path
    kubeconfig: Path
    endpoint: str | None
    state: ClusterState
    nodes: int | None
    provider: str = "kwok"
