"""Helm values as plain data: checked, merged the way Helm merges them.

Values reach Helm only as a values file (JSON is YAML), never as ``--set``
strings, so no value is ever parsed by Helm's ``--set`` mini-language and no
character in a value needs escaping. Before that they are checked here to be
plain JSON data, with an error that names the offending key.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from clusterforge.errors import InvalidInput

__all__ = ["check_values", "image_tag", "merge_values", "overrides", "values_file_text"]

# An image registry: host[:port] and an optional path (a mirror's project).
_REGISTRY = re.compile(
    r"[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*/?"
)
# A container image tag (the OCI distribution spec's grammar).
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def check_values(values: Any, *, what: str) -> dict[str, Any]:
    """A deep copy of ``values`` if they are a mapping of plain JSON data."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise InvalidInput(f"{what}: values must be a mapping, got {type(values).__name__}")
    _check_plain(values, what, "values")
    return copy.deepcopy(dict(values))


def _check_plain(value: Any, what: str, path: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{what}: {path} is {value}; use a finite number")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_plain(item, what, f"{path}[{index}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"{what}: key {key!r} in {path} must be a string; quote it")
            _check_plain(item, what, f"{path}.{key}")
        return
    raise InvalidInput(
        f"{what}: {path} is a {type(value).__name__}; values hold strings, numbers, "
        "booleans, lists and mappings only"
    )


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base`` as Helm does: mappings merge, anything else replaces,
    and ``null`` removes the key."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def image_tag(version: str, *, app_version: str, what: str) -> str:
    """The image tag for ``version``, written the way the chart's images are tagged.

    Catalog versions may be given with or without a leading ``v`` ("0.7.2",
    "v0.7.2"); the tag follows the chart's appVersion convention, since
    registries tag some projects ``v1.2.3`` and others ``1.2.3``.
    """
    text = version.strip()
    if not _TAG.fullmatch(text):
        raise InvalidInput(
            f"{what}: version {version!r} is not an image tag; write e.g. "
            f"{app_version!r} (letters, digits, '.', '_', '-')"
        )
    bare = text[1:] if text[:1] in "vV" and text[1:2].isdigit() else text
    if not bare[:1].isdigit():
        return text
    return f"v{bare}" if app_version.startswith("v") else bare


def overrides(*, registry: str | None, tag: str | None, what: str) -> dict[str, Any]:
    """The values that ``registry=`` and ``version=`` stand for."""
    result: dict[str, Any] = {}
    if registry is not None:
        if not _REGISTRY.fullmatch(registry):
            raise InvalidInput(
                f"{what}: registry {registry!r} is not an image registry; write a host with "
                "an optional port and path, e.g. 'mirror.internal:5000/k8s'"
            )
        result["global"] = {"registry": registry.rstrip("/")}
    if tag is not None:
        result["version"] = tag
    return result


def values_file_text(values: Mapping[str, Any]) -> str:
    """A values file Helm reads (JSON is a subset of YAML)."""
    return json.dumps(values, indent=1, sort_keys=True)
