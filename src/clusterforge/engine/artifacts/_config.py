"""Artifact repositories as Argo configures them: an ``artifact-repositories`` ConfigMap.

Argo reads repositories from a ConfigMap (default name
``artifact-repositories``) whose ``data`` holds one YAML document per entry;
the annotation ``workflows.argoproj.io/default-artifact-repository`` names the
default entry, and a workflow's ``spec.artifactRepositoryRef`` (``configMap``,
``key``) picks another. clusterforge reads the same documents from a file
(``CLUSTERFORGE_ARTIFACT_REPOSITORIES``, or ``artifact-repositories.yaml`` in
the data directory). With no file, the embedded default is a ``local``
repository: a directory under the data directory, zero configuration.

Two kinds are understood: ``local`` (clusterforge's own, ``{path, keyFormat}``)
and ``s3`` (Argo's fields: ``endpoint``, ``bucket``, ``region``, ``insecure``,
``keyFormat``, ``useSDKCreds``, ``accessKeySecret``/``secretKeySecret``, plus
``pathStyle`` and ``credentialsFile``). Credentials are never taken from the
document in clear: a secret selector names a file (as Kubernetes mounts a
Secret), ``credentialsFile`` names an AWS credentials file, and otherwise the
AWS default chain applies (environment, shared files, instance roles).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from clusterforge import paths
from clusterforge.errors import InvalidInput, NotFound

CONFIG_ENV = "CLUSTERFORGE_ARTIFACT_REPOSITORIES"
DEFAULT_CONFIGMAP = "artifact-repositories"
DEFAULT_ANNOTATION = "workflows.argoproj.io/default-artifact-repository"
MAX_DOCUMENT_BYTES = 1 << 20
"""A repository document is a few hundred bytes; anything past 1 MiB is refused unread."""

CLEAR_CREDENTIALS = frozenset({"accessKey", "secretKey", "sessionToken", "accessKeyId"})
_Name = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9]([-._A-Za-z0-9]{0,251}[A-Za-z0-9])?$")
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class SecretSelector(_Model):
    """A Kubernetes secret key selector; locally, the file ``<secrets>/<name>/<key>``."""

    name: _Name
    key: _Name


class LocalConfig(_Model):
    """A directory on this machine (the embedded default)."""

    path: str | None = None
    key_format: str | None = Field(default=None, alias="keyFormat")


class S3Config(_Model):
    """Argo's S3 repository fields, plus ``pathStyle`` and ``credentialsFile``."""

    bucket: str = Field(min_length=3, max_length=63)
    endpoint: str | None = None
    region: str | None = None
    insecure: bool = False
    path_style: bool | None = Field(default=None, alias="pathStyle")
    key_format: str | None = Field(default=None, alias="keyFormat")
    use_sdk_creds: bool = Field(default=False, alias="useSDKCreds")
    access_key_secret: SecretSelector | None = Field(default=None, alias="accessKeySecret")
    secret_key_secret: SecretSelector | None = Field(default=None, alias="secretKeySecret")
    session_token_secret: SecretSelector | None = Field(default=None, alias="sessionTokenSecret")
    credentials_file: str | None = Field(default=None, alias="credentialsFile")
    profile: str | None = None


class RepositoryConfig(_Model):
    """One entry: exactly one of ``local`` and ``s3``; ``archiveLogs`` as Argo has it."""

    name: str = "default"
    archive_logs: bool = Field(default=False, alias="archiveLogs")
    local: LocalConfig | None = None
    s3: S3Config | None = None

    @property
    def key_format(self) -> str | None:
        chosen = self.s3 or self.local
        return chosen.key_format if chosen is not None else None


class RepositoryRef(_Model):
    """A workflow's ``spec.artifactRepositoryRef``."""

    config_map: str = Field(default=DEFAULT_CONFIGMAP, alias="configMap")
    key: str | None = None


def embedded_default() -> RepositoryConfig:
    """The zero-configuration repository: a directory in the data directory."""
    return RepositoryConfig(name="local", local=LocalConfig(path=str(default_local_dir())))


def default_local_dir() -> Path:
    return paths.data_home() / "artifacts"


def config_file() -> Path | None:
    """The repositories file in force, or None for the embedded default."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise InvalidInput(f"{CONFIG_ENV}={explicit}: no such file; create it or unset it")
        return path
    candidate = paths.data_home() / "artifact-repositories.yaml"
    return candidate if candidate.is_file() else None


class Repositories:
    """Every ConfigMap of a repositories file, by name, and the entries in each."""

    def __init__(self, config_maps: Mapping[str, Mapping[str, Any]], origin: str) -> None:
        self._maps = dict(config_maps)
        self.origin = origin

    @classmethod
    def load(cls, path: Path | None = None) -> Repositories:
        """Parse ``path`` (default: :func:`config_file`); none at all is the embedded default."""
        path = path if path is not None else config_file()
        if path is None:
            return cls({}, "embedded default")
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise InvalidInput(f"{path}: larger than {MAX_DOCUMENT_BYTES} bytes; not read")
        return cls.parse(path.read_text(encoding="utf-8"), str(path))

    @classmethod
    def parse(cls, text: str, origin: str) -> Repositories:
        if len(text.encode()) > MAX_DOCUMENT_BYTES:
            raise InvalidInput(f"{origin}: larger than {MAX_DOCUMENT_BYTES} bytes; not read")
        try:
            documents = [d for d in yaml.safe_load_all(text) if d is not None]
        except yaml.YAMLError as err:
            raise InvalidInput(f"{origin}: not valid YAML: {err}") from None
        maps: dict[str, Mapping[str, Any]] = {}
        for index, doc in enumerate(documents):
            if not isinstance(doc, dict) or doc.get("kind") != "ConfigMap":
                raise InvalidInput(f"{origin}: document {index + 1} must be a ConfigMap")
            name = (doc.get("metadata") or {}).get("name")
            if not isinstance(name, str) or not name:
                raise InvalidInput(f"{origin}: document {index + 1}: metadata.name is required")
            maps[name] = doc
        return cls(maps, origin)

    def resolve(self, ref: Mapping[str, Any] | None = None) -> RepositoryConfig:
        """The repository a workflow uses: its ref's entry, the default one, or the embedded."""
        try:
            parsed = RepositoryRef.model_validate(ref or {})
        except ValidationError as err:
            raise InvalidInput(f"spec.artifactRepositoryRef: {_first(err)}") from None
        config_map = self._maps.get(parsed.config_map)
        if config_map is None:
            if ref is None or not ref:
                return embedded_default()
            known = ", ".join(self._maps) or "none"
            raise NotFound(
                f"spec.artifactRepositoryRef.configMap: no ConfigMap {parsed.config_map!r} "
                f"in {self.origin} (known: {known})"
            )
        return self._entry(parsed.config_map, config_map, parsed.key)

    def _entry(self, map_name: str, doc: Mapping[str, Any], key: str | None) -> RepositoryConfig:
        annotations = (doc.get("metadata") or {}).get("annotations") or {}
        key = key or annotations.get(DEFAULT_ANNOTATION)
        data = doc.get("data") or {}
        if not key:
            raise InvalidInput(
                f"{self.origin}: ConfigMap {map_name!r} has no {DEFAULT_ANNOTATION} annotation; "
                "add it or set spec.artifactRepositoryRef.key"
            )
        if key not in data:
            known = ", ".join(data) or "none"
            raise NotFound(
                f"{self.origin}: ConfigMap {map_name!r} has no key {key!r} (keys: {known})"
            )
        return parse_entry(data[key], f"{map_name}/{key}", self.origin)


def parse_entry(raw: Any, name: str, origin: str) -> RepositoryConfig:
    """One ConfigMap data entry (YAML text or a mapping) as a repository."""
    field = f"{origin}: {name}"
    try:
        body = yaml.safe_load(raw) if isinstance(raw, str) else raw
    except yaml.YAMLError as err:
        raise InvalidInput(f"{field}: not valid YAML: {err}") from None
    if not isinstance(body, dict):
        raise InvalidInput(f"{field}: expected a mapping with 'local' or 's3'")
    for kind in ("s3", "local"):
        section = body.get(kind)
        clear = sorted(CLEAR_CREDENTIALS & set(section)) if isinstance(section, dict) else []
        if clear:
            raise InvalidInput(
                f"{field}: {kind}.{clear[0]}: credentials are never read in clear; use "
                "accessKeySecret/secretKeySecret (files), credentialsFile, or the AWS environment"
            )
    try:
        config = RepositoryConfig.model_validate({**body, "name": name})
    except ValidationError as err:
        raise InvalidInput(f"{field}: {_first(err)}") from None
    if (config.local is None) == (config.s3 is None):
        raise InvalidInput(f"{field}: give exactly one of 'local' and 's3'")
    return config


def _first(err: ValidationError) -> str:
    item = err.errors()[0]
    where = ".".join(str(p) for p in item["loc"])
    return f"{where}: {item['msg']}" if where else item["msg"]
