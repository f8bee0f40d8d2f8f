"""From an add-on to the exact objects an install applies.

Rendering is separate from applying so that what will change can be read
(``clusterforge`` shows it, a reviewer diffs it, a GitOps repo stores it)
before anything touches a cluster. Charts are rendered with ``helm template``
(no cluster access, no release state), kustomize directories with ``kubectl
kustomize``, plain files are read as they are; every result then gets the
add-on label and, when the add-on has a namespace of its own, the Namespace
object itself — so the manifest is complete and ``kubectl apply -f`` of it
alone works.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clusterforge.addons._catalog import get
from clusterforge.addons._manifest import (
    SHARED_NAMESPACES,
    Obj,
    dump_manifest,
    label_objects,
    namespace_object,
    parse_manifest,
)
from clusterforge.addons._run import binary, first_error_line, run
from clusterforge.addons._user import UserAddon
from clusterforge.addons._values import check_values, image_tag, overrides, values_file_text
from clusterforge.errors import InvalidInput, OperationFailed

__all__ = ["catalog_objects", "render", "render_user_addon", "user_objects"]

# Helm's words for "the chart's source could not be reached".
_UNREACHABLE = re.compile(
    r"dial tcp|no such host|connection refused|i/o timeout|network is unreachable|"
    r"TLS handshake timeout|timeout awaiting|could not resolve|temporary failure in name "
    r"resolution|context deadline exceeded|looks like .* is not a valid chart repository|"
    r"failed to fetch|failed to do request|unexpected EOF",
    re.IGNORECASE,
)
# How long a chart download may take before it counts as unreachable.
_PULL_TIMEOUT = 120.0


def render(
    name: str,
    *,
    values: Mapping[str, Any] | None = None,
    registry: str | None = None,
    version: str | None = None,
) -> str:
    """The manifest installing catalog add-on ``name``: ``helm template`` output, labelled.

    ``values`` are merged over the chart's defaults; ``registry`` replaces the
    registry of every image (``global.registry``); ``version`` is the
    add-on's version (its image tag), e.g. ``"1.11.3"`` or ``"v1.11.3"``.
    """
    return dump_manifest(catalog_objects(name, values=values, registry=registry, version=version))


def catalog_objects(
    name: str,
    *,
    values: Mapping[str, Any] | None = None,
    registry: str | None = None,
    version: str | None = None,
) -> list[Obj]:
    """The objects of :func:`render`, as data."""
    addon = get(name)
    what = f"add-on {name!r}"
    given = check_values(values, what=what)
    tag = image_tag(version, app_version=addon.version, what=what) if version else None
    forced = overrides(registry=registry, tag=tag, what=what)
    text = _helm_template(
        name,
        str(addon.chart),
        namespace=addon.namespace,
        values_files=[given, forced],
        what=what,
    )
    objects = parse_manifest(text, source=f"{what} (rendered chart)")
    return _finish(name, addon.namespace, objects)


def render_user_addon(addon: UserAddon) -> str:
    """The manifest installing the user's add-on, labelled like a catalog add-on's."""
    return dump_manifest(user_objects(addon))


def user_objects(addon: UserAddon) -> list[Obj]:
    """The objects of :func:`render_user_addon`, as data."""
    what = f"user add-on {addon.name!r}"
    namespace = addon.install_namespace
    if addon.chart is not None:
        chart = addon.chart
        extra: list[str] = []
        if chart.path is not None:
            ref = str(chart.path)
        elif chart.repo is not None:
            ref = str(chart.name)
            extra = ["--repo", chart.repo, "--version", str(chart.version)]
        else:
            ref = str(chart.oci)
            extra = ["--version", str(chart.version)]
        text = _helm_template(
            addon.name,
            ref,
            namespace=namespace,
            values_files=[check_values(addon.values, what=what)],
            what=what,
            extra=extra,
            remote=chart.location if chart.path is None else None,
        )
        source = f"{what} (chart {chart.location})"
    elif addon.kustomize is not None:
        done = run([binary("kubectl"), "kustomize", str(addon.kustomize)], timeout=_PULL_TIMEOUT)
        if not done.ok:
            raise InvalidInput(
                f"{what}: kustomize {str(addon.kustomize)!r} does not build: "
                f"{first_error_line(done.stderr)}"
            )
        text = done.stdout
        source = f"{what} (kustomize {addon.kustomize})"
    else:
        parts = []
        for path in _manifest_files(addon.manifests, what):
            try:
                parts.append(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as err:
                raise InvalidInput(f"{what}: cannot read manifest {str(path)!r}: {err}") from err
        text = "\n---\n".join(parts)
        source = f"{what} (manifests)"
    return _finish(addon.name, namespace, parse_manifest(text, source=source))


def _manifest_files(paths: tuple[Path, ...], what: str) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml", ".json")
            )
            if not found:
                raise InvalidInput(f"{what}: manifest directory {str(path)!r} has no YAML files")
            files.extend(found)
        else:
            files.append(path)
    return files


def _finish(addon: str, namespace: str, objects: list[Obj]) -> list[Obj]:
    """Label every object; put the add-on's own Namespace first."""
    declared = any(
        obj["kind"] == "Namespace"
        and obj["apiVersion"] == "v1"
        and obj["metadata"]["name"] == namespace
        for obj in objects
    )
    if namespace not in SHARED_NAMESPACES and not declared:
        objects = [namespace_object(namespace), *objects]
    return label_objects(objects, addon)


def _helm_template(
    release: str,
    chart: str,
    *,
    namespace: str,
    values_files: list[dict[str, Any]],
    what: str,
    extra: list[str] | None = None,
    remote: str | None = None,
) -> str:
    """``helm template`` of one chart with values given as files, never ``--set``."""
    helm = binary("helm")
    with tempfile.TemporaryDirectory(prefix="clusterforge-values-") as tmp:
        argv = [
            helm,
            "template",
            release,
            chart,
            "--namespace",
            namespace,
            "--include-crds",
            "--skip-tests",
            *(extra or []),
        ]
        for index, values in enumerate(values_files):
            if not values:
                continue
            path = Path(tmp) / f"values-{index}.yaml"
            path.write_text(values_file_text(values), encoding="utf-8")
            argv += ["--values", str(path)]
        done = run(
            argv,
            timeout=_PULL_TIMEOUT,
            on_timeout=(
                f"{what}: downloading chart {remote} took more than {_PULL_TIMEOUT:g}s; this "
                "machine may not reach the chart's source — vendor the chart and give its "
                "local path as chart.path"
                if remote is not None
                else None
            ),
        )
    if done.ok:
        return done.stdout
    reason = first_error_line(done.stderr)
    if remote is not None and _UNREACHABLE.search(done.stderr):
        raise OperationFailed(
            f"{what}: could not download chart {remote}: {reason}. This machine cannot reach "
            "the chart's source; check the address and network access, or vendor the chart "
            "(helm pull on a machine that can reach it) and give its local path as chart.path"
        )
    if remote is not None:
        raise OperationFailed(f"{what}: helm could not fetch or render chart {remote}: {reason}")
    if "missing in charts/ directory" in reason:
        raise InvalidInput(
            f"{what}: chart {chart} has dependencies that are not vendored: {reason}; "
            "run `helm dependency build` in the chart directory"
        )
    raise InvalidInput(f"{what}: the chart rejected its values: {reason}")
