"""Argo's validation of a ``resource`` template, before anything runs.

What Argo's ``validateLeaf`` (workflow/validate/validate.go) refuses, refused
here with the field and the fix: an action outside get/create/apply/delete/
replace/patch; a create/apply/replace/patch with no manifest, or with both
``manifest`` and ``manifestFrom``, or ``manifestFrom`` naming no input
artifact; a manifest that is not YAML once its ``{{…}}`` tags are set aside;
an output parameter read neither by ``jqFilter`` nor ``jsonPath``. Beyond Argo
(which finds these only when the step runs): a ``mergeStrategy`` other than
strategic/merge/json, and a success/failure condition Kubernetes' selector
parser would refuse — both fail every run, so they are refused at submission.
Values with tags are left for run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import yaml

from clusterforge.errors import InvalidInput
from clusterforge.safety import load_yaml_documents

from ._checker import Checker
from ._conditions import ConditionError, parse_condition
from ._sites import Site, is_tagged, join

__all__ = ["check_resource"]

ACTIONS = ("get", "create", "apply", "delete", "replace", "patch")
STRATEGIES = ("strategic", "merge", "json")
Refuse = Callable[[str, str, str], None]
"""Report a problem of ``resource.<field>``: (field, message, fix)."""
# A tag in a manifest ({{…}}): a fixed, linear pattern of ours, not a user's.
_TAG = re.compile(r"\{\{[^{}]*\}\}")


def check_resource(checker: Checker, site: Site) -> None:
    """Every rule above for ``site``'s ``resource`` (nothing when it has none)."""
    resource = site.template.resource
    if resource is None:
        return
    loc, base = site.location, join(site.path, "resource")

    def refuse(field: str, message: str, fix: str) -> None:
        checker.add(site, loc, f"resource.{field}", message, fix, path=join(base, field))

    action = resource.action or ""
    if not is_tagged(action) and action not in ACTIONS:
        refuse("action", f"action {action!r} is not one of {', '.join(ACTIONS)}", "use one of them")
    strategy = resource.merge_strategy
    if strategy and not is_tagged(strategy) and strategy not in STRATEGIES:
        refuse("mergeStrategy", f"mergeStrategy {strategy!r}", f"use {', '.join(STRATEGIES)}")
    if action not in ("delete", "get"):
        _check_manifest(site, refuse)
    conditions = (
        ("successCondition", resource.success_condition),
        ("failureCondition", resource.failure_condition),
    )
    for which, condition in conditions:
        if condition and not is_tagged(condition):
            try:
                parse_condition(condition)
            except ConditionError as err:
                refuse(
                    which,
                    f"{which} {condition!r} does not parse: {err}",
                    "write requirements as Kubernetes label selectors, e.g. "
                    "'status.phase in (Failed, Error)', 'status.succeeded > 2'",
                )
    _check_outputs(checker, site)


def _check_manifest(site: Site, refuse: Refuse) -> None:
    resource, inputs = site.template.resource, site.template.inputs
    assert resource is not None
    source = resource.manifest_from
    if not resource.manifest and source is None:
        refuse("manifest", "no manifest", "give resource.manifest or resource.manifestFrom")
        return
    if resource.manifest and source is not None:
        refuse("manifestFrom", "both manifest and manifestFrom", "keep one of them")
        return
    if source is not None and source.artifact is not None:
        names = {a.name for a in (inputs.artifacts if inputs else None) or []}
        if source.artifact.name not in names:
            refuse(
                "manifestFrom.artifact",
                f"artifact {source.artifact.name!r} in manifestFrom is not an input artifact",
                "declare it under inputs.artifacts",
            )
    if resource.manifest:
        try:
            load_yaml_documents(_TAG.sub("placeholder", resource.manifest), "resource.manifest")
        except (yaml.YAMLError, InvalidInput) as err:
            refuse("manifest", f"the manifest is not valid YAML: {err}", "fix the YAML")


def _check_outputs(checker: Checker, site: Site) -> None:
    outputs = site.template.outputs
    for i, param in enumerate((outputs.parameters if outputs else None) or []):
        source = param.value_from
        if source is not None and source.jq_filter is None and source.json_path is None:
            checker.add(
                site,
                site.location,
                f"outputs.parameters[{i}].valueFrom",
                f"output {param.name!r}: a resource template's outputs are read from its object",
                "use valueFrom.jsonPath or valueFrom.jqFilter",
                path=join(site.path, f"outputs.parameters[{i}].valueFrom"),
            )
