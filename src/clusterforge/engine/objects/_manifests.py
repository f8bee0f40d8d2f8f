"""ConfigMap and Secret manifests from local files, checked as the API server would.

A local run has no API server to hold ConfigMaps and Secrets, so they come
from files of ordinary manifests (``kubectl create configmap … -o yaml``
output works as is). Each file — or every ``*.yaml``/``*.yml``/``*.json``
directly in a directory — is read with the bounded loaders of
:mod:`clusterforge.safety`; a document that is not a ConfigMap or Secret, or
one with a bad name, key or value, is refused with one error naming the file,
the document and the field. The error never quotes the file's text: a Secret
manifest holds credentials, so YAML syntax errors give only line and column.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from clusterforge.errors import InvalidInput
from clusterforge.safety import LimitExceeded, load_yaml_documents, read_text

__all__ = ["KINDS", "KubeObject", "load_files", "manifest_files", "parse_object"]

KINDS = ("ConfigMap", "Secret")
_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_KEY = re.compile(r"[-._a-zA-Z0-9]{1,253}")
_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class KubeObject:
    """One ConfigMap or Secret: its data as bytes (a Secret's decoded from base64)."""

    kind: str
    name: str
    namespace: str | None  # None: in every namespace (a manifest without one)
    data: Mapping[str, bytes]
    labels: Mapping[str, str] = field(default_factory=dict)
    origin: str = ""

    def text(self, key: str) -> str:
        """A value as text (undecodable bytes replaced, as a shell would see them)."""
        return self.data[key].decode("utf-8", errors="replace")


def manifest_files(path: Path) -> list[Path]:
    """``path`` itself, or the manifest files directly in a directory (sorted)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in _SUFFIXES and p.is_file())
    return [path]


def load_files(paths: Iterable[Path], option: str) -> list[KubeObject]:
    """Every object of the given files/directories; ``option`` names the setting in errors."""
    found: list[KubeObject] = []
    seen: dict[tuple[str, str | None, str], str] = {}
    for given in paths:
        if not given.exists():
            raise InvalidInput(
                f"{option} {given}: does not exist; give a file of ConfigMap/"
                "Secret manifests or a directory of them"
            )
        for path in manifest_files(given):
            for obj in _load_file(path, option):
                key = (obj.kind, obj.namespace, obj.name)
                if key in seen:
                    raise InvalidInput(
                        f"{option} {obj.origin}: {obj.kind} {obj.name!r} is also defined in "
                        f"{seen[key]}; keep one of them"
                    )
                seen[key] = obj.origin
                found.append(obj)
    return found


def _load_file(path: Path, option: str) -> list[KubeObject]:
    try:
        documents = load_yaml_documents(read_text(path), str(path))
    except LimitExceeded as err:
        raise InvalidInput(f"{option} {err}") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InvalidInput(f"{option} {path}: not valid YAML{where}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        what = err.strerror if isinstance(err, OSError) else "not readable as UTF-8 YAML"
        raise InvalidInput(f"{option} {path}: {what}") from None
    out = []
    for index, doc in enumerate(d for d in documents if d is not None):
        out.append(parse_object(doc, f"{path} document {index + 1}", option))
    return out


def parse_object(doc: Any, where: str, option: str = "") -> KubeObject:
    """One manifest (a mapping) as a :class:`KubeObject`, or an error naming the field."""
    at = f"{option} {where}".strip()
    if not isinstance(doc, Mapping) or doc.get("kind") not in KINDS:
        kind = doc.get("kind") if isinstance(doc, Mapping) else None
        raise InvalidInput(f"{at}: kind is {kind!r}; only ConfigMap and Secret manifests are read")
    meta = doc.get("metadata")
    if not isinstance(meta, Mapping):
        raise InvalidInput(f"{at}: metadata.name is required")
    name, namespace = meta.get("name"), meta.get("namespace")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput(
            f"{at}: metadata.name {name!r} is not a DNS-1123 subdomain "
            "(lowercase letters, digits, '-' and '.')"
        )
    if namespace is not None and (not isinstance(namespace, str) or not _NAME.fullmatch(namespace)):
        raise InvalidInput(f"{at}: metadata.namespace {namespace!r} is not a namespace name")
    labels = meta.get("labels") or {}
    if not isinstance(labels, Mapping):
        raise InvalidInput(f"{at}: metadata.labels must be a mapping")
    kind = str(doc["kind"])
    data = _data(doc, kind, at)
    return KubeObject(kind, name, namespace, data, {str(k): str(v) for k, v in labels.items()}, at)


def _data(doc: Mapping[str, Any], kind: str, at: str) -> dict[str, bytes]:
    """The object's keys: ``data``/``binaryData`` (ConfigMap), ``data``/``stringData`` (Secret)."""
    sections = ("data", "binaryData") if kind == "ConfigMap" else ("data", "stringData")
    out: dict[str, bytes] = {}
    for section in sections:
        values = doc.get(section)
        if values is None:
            continue
        if not isinstance(values, Mapping):
            raise InvalidInput(f"{at}: {section} must be a mapping of keys to strings")
        for key, value in values.items():
            if not isinstance(key, str) or not _KEY.fullmatch(key):
                raise InvalidInput(
                    f"{at}: {section}: key {key!r} may hold only letters, digits, '-', '_' and '.'"
                )
            if not isinstance(value, str):
                raise InvalidInput(f"{at}: {section}.{key} must be a string (quote it)")
            encoded = section == "binaryData" or (kind == "Secret" and section == "data")
            out[key] = _decode(value, f"{at}: {section}.{key}") if encoded else value.encode()
    return out


def _decode(value: str, field_name: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        # The value itself is never shown: it may be a credential.
        raise InvalidInput(
            f"{field_name}: not base64; put plain text under stringData instead"
        ) from None
