"""The cluster spec itself: ``apiVersion``, ``kind``, ``metadata``, ``spec``.

The document looks like a Kubernetes object on purpose — platform teams keep
these files next to their manifests, and editors complete them from
:func:`~clusterforge.spec.json_schema`. Sections live in their own modules;
this one composes them and wires the rules that span sections (see
:mod:`clusterforge.spec.consistency`). Those rules run as field validators
reading the already validated ``provider``, so they still report when an
unrelated field is broken.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from clusterforge.spec._base import SpecModel, raise_problems
from clusterforge.spec.addons import AddonSetting, AddonSettings, addon_map_problems
from clusterforge.spec.consistency import node_group_problems, version_problems
from clusterforge.spec.names import AddonName, ClusterName, LabelKey, LabelValue
from clusterforge.spec.nodegroups import NodeGroup
from clusterforge.spec.preflight import PreflightSpec
from clusterforge.spec.provider import AwsProvider, KwokProvider, Provider
from clusterforge.spec.validation import ValidationSpec
from clusterforge.spec.versions import KubernetesVersion

API_VERSION = "clusterforge.dev/v1alpha1"
KIND = "Cluster"


class Metadata(SpecModel):
    """The cluster's identity."""

    name: ClusterName = Field(
        description="The cluster's name: a DNS-1123 label of at most 40 characters. Names of "
        "everything built for it derive from it."
    )
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict,
        max_length=64,
        description="Kubernetes-style labels for finding the cluster in the fleet.",
    )


class Spec(SpecModel):
    """What to build."""

    provider: Provider = Field(description="Where the cluster is built: kwok (local) or aws (EKS).")
    kubernetes_version: KubernetesVersion = Field(
        description="Kubernetes version, 'MAJOR.MINOR' or 'vMAJOR.MINOR.PATCH'. kwok: 1.34 "
        "(the pinned 1.34.4 toolchain); aws: MAJOR.MINOR only."
    )
    node_groups: list[NodeGroup] = Field(
        min_length=1, max_length=30, description="Worker node groups (1 to 30)."
    )
    addons: dict[AddonName, AddonSetting] = Field(
        default_factory=dict,
        max_length=64,
        description="Add-on name → 'none' | 'default' | version | settings. Catalog: "
        "cert-manager, cluster-autoscaler, coredns, fluent-bit, ingress-nginx, metrics-server; "
        "other names are your own add-ons. A name left out is not installed.",
    )
    validation: ValidationSpec = Field(
        default_factory=ValidationSpec, description="Extra checks before hand-over, and retries."
    )
    preflight: PreflightSpec = Field(
        default_factory=PreflightSpec, description="Preflight thresholds and extra checks."
    )

    @model_validator(mode="before")
    @classmethod
    def _zone_defaults(cls, data: Any) -> Any:
        # On aws a node group without zones spans every subnet's zone; the
        # kwok default (zone-a) is NodeGroup's own. Only well-formed input is
        # touched: anything else is reported by the fields' own validators.
        if not isinstance(data, dict):
            return data
        key = "node_groups" if "node_groups" in data else "nodeGroups"
        provider, groups = data.get("provider"), data.get(key)
        if not (isinstance(provider, dict) and provider.get("type") == "aws"):
            return data
        subnets = provider.get("subnets")
        if not isinstance(subnets, list) or not isinstance(groups, list):
            return data
        zones = sorted(
            {s["zone"] for s in subnets if isinstance(s, dict) and isinstance(s.get("zone"), str)}
        )
        if not zones:
            return data
        filled = [
            {**g, "zones": zones} if isinstance(g, dict) and "zones" not in g else g for g in groups
        ]
        return {**data, key: filled}

    @field_validator("kubernetes_version")
    @classmethod
    def _provider_builds_version(cls, version: str, info: ValidationInfo) -> str:
        provider = info.data.get("provider")
        if isinstance(provider, KwokProvider | AwsProvider):
            raise_problems(
                "kubernetesVersion",
                [(loc[1:], m) for loc, m in version_problems(provider, version)],
            )
        return version

    @field_validator("node_groups")
    @classmethod
    def _groups_fit_provider(cls, groups: list[NodeGroup], info: ValidationInfo) -> list[NodeGroup]:
        provider = info.data.get("provider")
        problems = node_group_problems(
            provider if isinstance(provider, KwokProvider | AwsProvider) else None, groups
        )
        raise_problems("nodeGroups", [(loc[1:], m) for loc, m in problems])
        return groups

    @field_validator("addons")
    @classmethod
    def _addons_consistent(
        cls, addons: dict[str, AddonSettings | None]
    ) -> dict[str, AddonSettings | None]:
        raise_problems("addons", addon_map_problems(addons))
        return addons


class ClusterSpec(SpecModel):
    """A request for a tested Kubernetes cluster (apiVersion clusterforge.dev/v1alpha1)."""

    api_version: Literal["clusterforge.dev/v1alpha1"] = Field(
        description="The spec format: 'clusterforge.dev/v1alpha1'."
    )
    kind: Literal["Cluster"] = Field(description="Always 'Cluster'.")
    metadata: Metadata = Field(description="The cluster's name and labels.")
    spec: Spec = Field(
        description="What to build: provider, version, node groups, add-ons and extra checks."
    )

    @property
    def name(self) -> str:
        """The cluster's name (``metadata.name``)."""
        return self.metadata.name
