"""Reading a spec: from a file (CLI) or from a decoded payload (HTTP API).

YAML is read with PyYAML's safe loader — no tags that build Python objects —
and with two checks PyYAML does not make: a key given twice in one mapping (the
second silently wins otherwise) and a file holding several documents are
errors. ``.json`` files are read as JSON. Either way the result goes through
the same model, so a payload and a file fail with the same messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from clusterforge.safety import MAX_DEPTH, LimitExceeded, check_depth, check_yaml, read_text
from clusterforge.spec._base import show
from clusterforge.spec.cluster import ClusterSpec
from clusterforge.spec.errors import SpecError
from clusterforge.spec.paths import BASE_DIR

#: Largest spec file read (a spec is a few KiB; this bounds a mistaken path).
MAX_SPEC_BYTES = 4 * 1024 * 1024


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key given twice."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, yaml.Node] = {}
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
        except TypeError:
            duplicate = False  # unhashable key; construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {show(key)} appears twice in one mapping (first on line "
                f"{seen[key].start_mark.line + 1})",
                key_node.start_mark,
            )
        if not isinstance(key, list | dict):
            seen[key] = key_node
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(text: str, source: str) -> Any:
    try:
        check_yaml(text, source)
    except LimitExceeded as err:
        raise SpecError(source, [("", str(err).removeprefix(f"{source}: "))]) from None
    try:
        documents = list(yaml.load_all(text, Loader=_UniqueKeyLoader))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise SpecError(where, [("", f"not valid YAML: {err.problem}")]) from None
    except yaml.YAMLError as err:
        raise SpecError(source, [("", f"not valid YAML: {err}")]) from None
    if not documents:
        return None  # an empty file; parse_spec says what a spec is
    if len(documents) != 1:
        raise SpecError(
            source, [("", f"holds {len(documents)} YAML documents; a spec is exactly one")]
        )
    return documents[0]


def _read_json(text: str, source: str) -> Any:
    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise SpecError(source, [("", f"key {show(key)} appears twice in one object")])
            result[key] = value
        return result

    try:
        data = json.loads(text, object_pairs_hook=unique)
    except json.JSONDecodeError as err:
        raise SpecError(
            f"{source}:{err.lineno}:{err.colno}", [("", f"not valid JSON: {err.msg}")]
        ) from None
    except RecursionError:
        raise SpecError(
            source, [("", f"the JSON is nested more than {MAX_DEPTH} levels deep")]
        ) from None
    try:
        check_depth(data, "the JSON")
    except LimitExceeded as err:
        raise SpecError(source, [("", str(err))]) from None
    return data


def load_spec(path: Path) -> ClusterSpec:
    """Read and validate the spec in ``path`` (YAML, or JSON when it ends in ``.json``).

    Relative paths inside the spec are resolved against the file's directory.
    Raises :class:`SpecError` naming the file and every problem in it.
    """
    source = str(path)
    try:
        text = read_text(path, limit=MAX_SPEC_BYTES)
    except LimitExceeded:
        raise SpecError(
            source, [("", f"is larger than {MAX_SPEC_BYTES} bytes; not a spec")]
        ) from None
    except UnicodeDecodeError:
        raise SpecError(source, [("", "is not UTF-8 text")]) from None
    except FileNotFoundError:
        raise SpecError(source, [("", "no such file")]) from None
    except IsADirectoryError:
        raise SpecError(source, [("", "is a directory; give the spec file")]) from None
    except OSError as err:
        raise SpecError(source, [("", f"cannot be read: {err.strerror}")]) from None
    data = _read_json(text, source) if path.suffix.lower() == ".json" else _read_yaml(text, source)
    return parse_spec(data, source=source, base_dir=path.resolve().parent)


def parse_spec(
    data: Mapping[str, Any] | Any, *, source: str = "<payload>", base_dir: Path | None = None
) -> ClusterSpec:
    """Validate a decoded spec (a mapping from YAML or JSON).

    ``source`` names where it came from in error messages. Relative paths are
    resolved against ``base_dir`` when given, and kept as written otherwise.
    Only the camelCase field names of the spec format are accepted.
    Raises :class:`SpecError` listing every problem.
    """
    if not isinstance(data, Mapping):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise SpecError(
            source,
            [("", f"is {kind}; a spec is a mapping with apiVersion, kind, metadata and spec")],
        )
    if "apiVersion" not in data and "kind" not in data:
        # not a spec at all (a key file, /etc/shadow): say so without echoing its contents
        raise SpecError(
            source,
            [
                (
                    "",
                    "is not a cluster spec: it has neither apiVersion nor kind at the top; "
                    "a spec starts with 'apiVersion: clusterforge.dev/v1alpha1' and "
                    "'kind: Cluster' (see `clusterforge spec schema`)",
                )
            ],
        )
    context = {BASE_DIR: base_dir} if base_dir is not None else None
    try:
        return ClusterSpec.model_validate(dict(data), context=context, by_alias=True, by_name=False)
    except ValidationError as err:
        raise SpecError.from_validation_error(err, source=source, model=ClusterSpec) from None
