"""Rules for a template's own fields: outputs, retry strategy, leaf-only fields, image.

Argo's validation, as functions over one :class:`Site`: an output parameter
needs exactly one source, read from a file in a container or script and from
tasks or steps in a dag or steps template; a retry policy is one of four, a
limit is a number, backoff durations parse; ``activeDeadlineSeconds`` and
``timeout`` belong on leaf templates, ``parallelism`` on dag and steps.
"""

from __future__ import annotations

import re

from clusterforge.workflow.expressions import ExpressionError, expression_references

from ._checker import Checker
from ._sites import DURATION, RETRY_POLICIES, Site, is_leaf, is_tagged, join, unwrapped
from ._volumes import mount_path_problem

# A simple tag ({{inputs.parameters.x}}): a fixed, linear pattern, not a user's.
_SIMPLE_TAG = re.compile(r"\{\{[^{}=][^{}]*\}\}")

__all__ = ["check_expression", "check_leaf_rules", "check_outputs", "check_retry"]


def check_outputs(checker: Checker, site: Site) -> None:
    tmpl, loc = site.template, site.location
    outputs = tmpl.outputs
    params = (outputs.parameters if outputs else None) or []
    base = join(site.path, "outputs.parameters")
    checker.parameter_names(site, loc, params, base, "outputs.parameters")
    leaf = tmpl.container is not None or tmpl.script is not None
    for i, param in enumerate(params):
        path = f"{base}[{i}]"
        shown = f"outputs.parameters[{i}]"
        source = param.value_from
        if source is not None and param.value is not None:
            checker.add(
                site,
                loc,
                shown,
                f"output {param.name!r} has both value and valueFrom",
                "keep one",
                path=path,
            )
            continue
        if source is None:
            if param.value is None:
                checker.add(
                    site,
                    loc,
                    shown,
                    f"output {param.name!r} has neither value nor valueFrom",
                    "add valueFrom: {path: …} (or parameter: for dag/steps)",
                    path=path,
                )
            continue
        kinds = [
            k
            for k in (
                "path",
                "jq_filter",
                "json_path",
                "parameter",
                "expression",
                "supplied",
                "configmap_key_ref",
                "event",
            )
            if getattr(source, k, None) is not None
        ]
        if not kinds:
            checker.add(
                site,
                loc,
                f"{shown}.valueFrom",
                f"output {param.name!r}: valueFrom names no source",
                "give path (container/script) or parameter/expression (dag/steps)",
                path=path,
            )
        elif len(kinds) > 1:
            checker.add(
                site,
                loc,
                f"{shown}.valueFrom",
                f"output {param.name!r}: valueFrom has several sources",
                "keep one",
                path=path,
            )
        elif (
            leaf
            and source.path is None
            and (source.parameter is not None or source.expression is not None)
        ):
            checker.add(
                site,
                loc,
                f"{shown}.valueFrom",
                f"output {param.name!r}: a container or script output is read from a file",
                "use valueFrom.path",
                path=path,
            )
        elif (tmpl.dag is not None or tmpl.steps is not None) and source.path is not None:
            checker.add(
                site,
                loc,
                f"{shown}.valueFrom",
                f"output {param.name!r}: a {'dag' if tmpl.dag else 'steps'} template has no files",
                "use valueFrom.parameter: '{{tasks.X.outputs.parameters.Y}}' or expression",
                path=path,
            )
        if source.expression is not None:
            check_expression(
                checker,
                site,
                loc,
                f"{shown}.valueFrom.expression",
                source.expression,
                f"{path}.valueFrom.expression",
            )


def check_expression(
    checker: Checker, site: Site, loc: str, shown: str, expression: str, path: str
) -> None:
    try:
        expression_references("{{=" + expression + "}}")
    except ExpressionError as err:
        checker.add(site, loc, shown, unwrapped(str(err)), "fix the expression", path=path)


def check_retry(checker: Checker, site: Site) -> None:
    strategy = site.template.retry_strategy
    if strategy is None:
        return
    loc, base = site.location, join(site.path, "retryStrategy")
    if strategy.retry_policy is not None and strategy.retry_policy not in RETRY_POLICIES:
        checker.add(
            site,
            loc,
            "retryStrategy.retryPolicy",
            f"unknown retry policy {strategy.retry_policy!r}",
            f"use one of {', '.join(RETRY_POLICIES)}",
            path=f"{base}.retryPolicy",
        )
    if strategy.limit is not None:
        value = strategy.limit.root
        if isinstance(value, str) and not (value.strip().isdigit() or is_tagged(value)):
            checker.add(
                site,
                loc,
                "retryStrategy.limit",
                f"limit {value!r} is not a number",
                "give a number of retries, e.g. limit: 3",
                path=f"{base}.limit",
            )
    if strategy.expression is not None:
        check_expression(
            checker,
            site,
            loc,
            "retryStrategy.expression",
            _SIMPLE_TAG.sub("tag", strategy.expression),  # substituted before it is evaluated
            f"{base}.expression",
        )
    backoff = strategy.backoff
    if backoff is None:
        return
    for alias, setting in (
        ("duration", backoff.duration),
        ("cap", backoff.cap),
        ("maxDuration", backoff.max_duration),
    ):
        if setting is None:
            continue
        text = str(setting)
        if not (is_tagged(text) or DURATION.fullmatch(text.strip())):
            checker.add(
                site,
                loc,
                f"retryStrategy.backoff.{alias}",
                f"{text!r} is not a duration",
                "write seconds (10) or a Go duration (30s, 2m, 1h)",
                path=f"{base}.backoff.{alias}",
            )


def check_volume_mounts(checker: Checker, site: Site) -> None:
    """A container's or script's mountPaths: absolute, and shadowing no system directory."""
    tmpl = site.template
    for kind in ("container", "script"):
        body = getattr(tmpl, kind)
        for index, mount in enumerate(getattr(body, "volume_mounts", None) or []):
            problem = mount_path_problem(mount.mount_path)
            if problem is not None:
                checker.add(
                    site,
                    site.location,
                    "volumeMounts.mountPath",
                    problem,
                    "choose a mountPath that hides nothing a step needs, e.g. /mnt/data",
                    path=join(site.path, f"{kind}.volumeMounts[{index}].mountPath"),
                )


def check_leaf_rules(checker: Checker, site: Site) -> None:
    tmpl, loc = site.template, site.location
    leaf = is_leaf(tmpl)
    check_volume_mounts(checker, site)
    check_data(checker, site)
    check_artifact_storage(checker, site)
    if not leaf and tmpl.active_deadline_seconds is not None:
        checker.add(
            site,
            loc,
            "activeDeadlineSeconds",
            "activeDeadlineSeconds is only valid on container and script templates (as in Argo)",
            "set it on the templates this one calls, or use spec.activeDeadlineSeconds",
            path=join(site.path, "activeDeadlineSeconds"),
        )
    if leaf and tmpl.parallelism is not None:
        checker.add(
            site,
            loc,
            "parallelism",
            "parallelism is only valid on dag and steps templates",
            "remove it, or set it on the dag/steps template that calls this one",
            path=join(site.path, "parallelism"),
        )
    if not leaf and tmpl.timeout is not None:
        checker.add(
            site,
            loc,
            "timeout",
            "timeout is only valid on container and script templates",
            "use it on the leaf templates",
            path=join(site.path, "timeout"),
        )
    deadline = tmpl.active_deadline_seconds
    if deadline is not None:
        value = deadline.root
        bad = (
            value < 0
            if isinstance(value, int)
            else not (value.strip().isdigit() or is_tagged(value))
        )
        if bad:
            checker.add(
                site,
                loc,
                "activeDeadlineSeconds",
                f"{value!r} is not a positive number of seconds",
                "give seconds, e.g. activeDeadlineSeconds: 300",
                path=join(site.path, "activeDeadlineSeconds"),
            )
    for kind in ("container", "script"):
        body = getattr(tmpl, kind)
        if body is not None and not body.image:
            checker.add(
                site,
                loc,
                f"{kind}.image",
                "image is required",
                "name the image the step runs in (it is recorded, not pulled, locally)",
                path=join(site.path, kind),
            )


def check_data(checker: Checker, site: Site) -> None:
    """A ``data`` template: a source (artifactPaths, Argo's only one) and expressions that parse."""
    data = site.template.data
    if data is None:
        return
    path = join(site.path, "data")
    if data.source.artifact_paths is None:
        checker.add(
            site,
            site.location,
            "data.source",
            "a data template needs a source: artifactPaths is the only one Argo has",
            "add data.source.artifactPaths naming the artifact location to list",
            path=join(path, "source"),
        )
    for index, step in enumerate(data.transformation or []):
        if step.expression:
            check_expression(
                checker,
                site,
                site.location,
                f"data.transformation[{index}].expression",
                step.expression,
                join(path, f"transformation[{index}]", "expression"),
            )


# Artifact storage Argo has and the local engine does not (it has a local
# directory, S3, raw data and — for inputs — HTTP; see docs/artifacts.md).
_STORAGE_NOT_LOCAL = {
    "artifactory": "Artifactory",
    "azure": "Azure Blob",
    "gcs": "GCS",
    "git": "git",
    "hdfs": "HDFS",
    "oss": "OSS",
}


def check_artifact_storage(checker: Checker, site: Site) -> None:
    """An artifact naming storage the local engine lacks is never silently moved.

    Warnings, since a caller may still supply an input another way, and an output
    then lands in the workflow's repository (the local engine's choice) — each
    says which.
    """
    tmpl = site.template
    for section, models in (
        ("inputs", (tmpl.inputs.artifacts if tmpl.inputs else None) or []),
        ("outputs", (tmpl.outputs.artifacts if tmpl.outputs else None) or []),
    ):
        for index, art in enumerate(models):
            for field_name, shown in _STORAGE_NOT_LOCAL.items():
                if getattr(art, field_name, None) is None:
                    continue
                where = f"{section}.artifacts[{index}].{field_name}"
                if section == "inputs":
                    what = (
                        f"input artifact {art.name!r} cannot be fetched from there: unless its "
                        "caller passes it (from:, s3, raw, http), the node ends in Error"
                    )
                else:
                    what = (
                        f"output artifact {art.name!r} is kept in the workflow's artifact "
                        "repository instead"
                    )
                checker.add(
                    site,
                    site.location,
                    where,
                    f"{shown} storage is not supported locally: {what}",
                    severity="warning",
                    path=join(site.path, where),
                )
