"""The cluster spec: what a platform engineer asks clusterforge to build.

A spec is a small Kubernetes-style document (``apiVersion:
clusterforge.dev/v1alpha1``, ``kind: Cluster``) naming the cluster, its
provider, Kubernetes version, node groups, add-ons, and the extra checks of
the preflight and validation stages. This package turns YAML, JSON or an HTTP
payload into a typed, immutable :class:`ClusterSpec` — or a :class:`SpecError`
listing every problem with its field path and what is allowed — and a
validated spec into the string parameters of the stage templates.

Everything a spec holds is data. Names are checked against the strictest rule
of every system they reach (DNS labels, label syntax, AWS formats), so they
never need quoting; free-form strings (Helm values, DETIK sentences, commands)
reach steps only as argv elements or environment variables, never through a
shell. See ``docs/spec.md`` for the format.
"""

from __future__ import annotations

from clusterforge.spec.accessors import (
    EnabledAddon,
    addon,
    addon_setting,
    capacity,
    catalog_addons,
    check_sentences,
    enabled_addons,
    node_group,
    spec_document,
    user_addons,
)
from clusterforge.spec.addons import (
    CATALOG_ADDONS,
    AddonSettings,
    ChartSource,
    KustomizeSource,
    ManifestsSource,
)
from clusterforge.spec.cluster import API_VERSION, KIND, ClusterSpec, Metadata, Spec
from clusterforge.spec.durations import duration_seconds
from clusterforge.spec.errors import SpecError, field_path
from clusterforge.spec.instance_types import INSTANCE_TYPES, InstanceType
from clusterforge.spec.loading import load_spec, parse_spec
from clusterforge.spec.nodegroups import NODE_GROUP_LABEL, RESERVED_NODE_LABELS, NodeGroup, Taint
from clusterforge.spec.parameters import compact_json, to_parameters
from clusterforge.spec.preflight import PreflightCheck, PreflightSpec
from clusterforge.spec.provider import PROVIDER_TYPES, AwsProvider, KwokProvider, Subnet
from clusterforge.spec.retries import RetryPolicy
from clusterforge.spec.schema import json_schema
from clusterforge.spec.validation import ValidationSpec
from clusterforge.spec.versions import (
    AWS_KUBERNETES_VERSIONS,
    KWOK_KUBERNETES_VERSION,
    kubernetes_minor,
)

__all__ = [
    "API_VERSION",
    "AWS_KUBERNETES_VERSIONS",
    "CATALOG_ADDONS",
    "INSTANCE_TYPES",
    "KIND",
    "KWOK_KUBERNETES_VERSION",
    "NODE_GROUP_LABEL",
    "PROVIDER_TYPES",
    "RESERVED_NODE_LABELS",
    "AddonSettings",
    "AwsProvider",
    "ChartSource",
    "ClusterSpec",
    "EnabledAddon",
    "InstanceType",
    "KustomizeSource",
    "KwokProvider",
    "ManifestsSource",
    "Metadata",
    "NodeGroup",
    "PreflightCheck",
    "PreflightSpec",
    "RetryPolicy",
    "Spec",
    "SpecError",
    "Subnet",
    "Taint",
    "ValidationSpec",
    "addon",
    "addon_setting",
    "capacity",
    "catalog_addons",
    "check_sentences",
    "compact_json",
    "duration_seconds",
    "enabled_addons",
    "field_path",
    "json_schema",
    "kubernetes_minor",
    "load_spec",
    "node_group",
    "parse_spec",
    "spec_document",
    "to_parameters",
    "user_addons",
]
