"""From a validated spec to the flat string parameters of the stage templates.

Argo parameters are strings, and the templates use them in three ways, each
safe by construction:

* in ``when`` expressions — ``'{{workflow.parameters.addon-coredns}}' != none``.
  Only values from a closed alphabet go there: ``provider``, ``cluster-name``
  (a DNS label) and ``addon-<catalog name>`` (``none``, ``default`` or a SemVer
  version), so no value can close the quote and change the expression;
* in ``withParam`` — compact JSON lists;
* as argv elements and environment variables of steps — everything else,
  including free-form values (Helm values, DETIK sentences, commands), which
  are therefore data whatever characters they hold.

The result is deterministic: the same spec always gives the same dictionary,
keys in sorted order, JSON with sorted keys and no whitespace.
"""

from __future__ import annotations

import json
from typing import Any

from clusterforge.spec.accessors import (
    addon_setting,
    enabled_addons,
    spec_document,
    user_addons,
)
from clusterforge.spec.addons import CATALOG_ADDONS
from clusterforge.spec.cluster import ClusterSpec
from clusterforge.spec.versions import kubernetes_minor


def compact_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the form of every JSON parameter."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def to_parameters(spec: ClusterSpec) -> dict[str, str]:
    """The workflow parameters for ``spec``; every value a string, keys sorted.

    ``cluster-name``, ``provider``, ``kubernetes-version`` (MAJOR.MINOR),
    ``node-groups`` (JSON list of node groups), ``node-group-names`` (JSON list),
    ``addon-<name>`` for every catalog add-on (``none``, ``default`` or a version),
    ``addons-json`` (JSON map of enabled add-ons), ``user-addons`` (JSON list,
    dependencies first), ``validation-checks``, ``validation-bats-files`` (JSON
    lists), ``validation-retries``, ``validation-interval``,
    ``validation-interval-seconds``, ``preflight-checks`` (JSON list of names),
    ``preflight-min-free-memory-mib``, ``preflight-min-free-disk-mib``, and
    ``spec-json`` (the whole canonical document).
    """
    body = spec.spec
    doc = spec_document(spec)
    retries = body.validation.retries
    params: dict[str, str] = {
        "cluster-name": spec.name,
        "provider": body.provider.type,
        "kubernetes-version": kubernetes_minor(body.kubernetes_version),
        "node-groups": compact_json(doc["spec"]["nodeGroups"]),
        "node-group-names": compact_json([group.name for group in body.node_groups]),
        "addons-json": compact_json({a.name: a.document() for a in enabled_addons(spec)}),
        "user-addons": compact_json([a.name for a in user_addons(spec)]),
        "validation-checks": compact_json(list(body.validation.checks)),
        "validation-bats-files": compact_json(list(body.validation.bats_files)),
        "validation-retries": str(retries.limit),
        "validation-interval": retries.interval,
        "validation-interval-seconds": str(retries.interval_seconds),
        "preflight-checks": compact_json([check.name for check in body.preflight.checks]),
        "preflight-min-free-memory-mib": str(body.preflight.min_free_memory_mib),
        "preflight-min-free-disk-mib": str(body.preflight.min_free_disk_mib),
        "spec-json": compact_json(doc),
    }
    for name in CATALOG_ADDONS:
        params[f"addon-{name}"] = addon_setting(spec, name)
    return dict(sorted(params.items()))
