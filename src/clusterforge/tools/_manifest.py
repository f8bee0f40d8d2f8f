"""The pinned toolchain, as data.

Every version clusterforge depends on lives in one YAML file shipped with the
package (``manifest.yaml``), so that bumping Kubernetes is a one-file change
and the resolver, the builder and ``tools status`` can never disagree about
what "the pinned version" means. This module parses that file into frozen
pydantic models and renders the few templates it contains.
"""

from __future__ import annotations

import os
import platform
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from clusterforge.errors import InvalidInput

_Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
_Version = Annotated[str, StringConstraints(pattern=r"^v\d+\.\d+\.\d+\S*$")]
# A relative directory inside the package: lowercase segments, no "..".
_LocalDir = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-]*(/[a-z0-9][a-z0-9_\-]*)*$")
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Staging(_Frozen):
    """Where a module's relative ``replace`` directives should point instead.

    A module such as ``k8s.io/kubernetes`` replaces its siblings with paths
    inside its own repository; a dependent must name published versions.
    Every relative replacement of a module under ``prefix`` becomes that
    module at ``version``; other relative replacements (guards such as etcd's
    ``./FORBIDDEN_DEPENDENCY``) are dropped.
    """

    prefix: str
    version: _Version


class Source(_Frozen):
    """A set of Go modules built together through one generated wrapper module."""

    modules: tuple[str, ...] = Field(min_length=1)
    version: _Version
    staging: Staging | None = None
    env: dict[str, str] = Field(default_factory=dict)


class Download(_Frozen):
    """An official release file; used only for platforms with a pinned sha256."""

    url: str
    member: str | None = None
    compression: Literal["gzip"] | None = None
    sha256: dict[str, _Sha256] = Field(default_factory=dict)


class Build(_Frozen):
    """How to build the tool from its source's wrapper module.

    ``local`` names a directory of Go source shipped inside this package
    (relative to ``clusterforge/tools``), such as a small program written
    here against the source's modules; it is copied into the wrapper module
    under its own directory name, and ``package`` then names it ``./<name>``.
    """

    source: str
    package: str
    ldflags: tuple[str, ...] = ()
    local: _LocalDir | None = None


class ToolSpec(_Frozen):
    """One pinned tool."""

    name: str = ""
    version: _Version
    required: bool = True
    version_args: tuple[str, ...]
    version_pattern: str
    download: Download | None = None
    build: Build | None = None

    def matches(self, found: str | None) -> bool:
        """Whether a version string found in a binary is this pinned version."""
        return found is not None and normalize_version(found) == normalize_version(self.version)

    def parse_version(self, output: str) -> str | None:
        """The version the binary printed, or None when the pattern is absent."""
        match = re.search(self.version_pattern, output)
        return match.group(1) if match else None


class Manifest(_Frozen):
    """The whole pinned toolchain."""

    sources: dict[str, Source] = Field(default_factory=dict)
    tools: dict[str, ToolSpec]

    def tool(self, name: str) -> ToolSpec:
        """The spec of ``name``; an unknown name is the user's mistake."""
        try:
            return self.tools[name]
        except KeyError:
            known = ", ".join(self.tools)
            raise InvalidInput(f"unknown tool {name!r}; known tools: {known}") from None

    def source_of(self, spec: ToolSpec) -> Source:
        """The Go source a tool is built from (the spec must have a build)."""
        assert spec.build is not None
        return self.sources[spec.build.source]


def normalize_version(version: str) -> str:
    """``v1.34.4`` and ``1.34.4`` name the same release."""
    return version.strip().removeprefix("v")


def current_platform() -> str:
    """This machine as Go names it, e.g. ``linux/amd64``."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )
    return f"{platform.system().lower()}/{arch}"


def render(template: str, spec: ToolSpec, **extra: str) -> str:
    """Fill a manifest template for ``spec`` on this platform."""
    os_name, arch = current_platform().split("/", 1)
    numbers = normalize_version(spec.version).split(".")
    values = {
        "version": spec.version,
        "version_number": normalize_version(spec.version),
        "os": os_name,
        "arch": arch,
        "major": numbers[0],
        "minor": numbers[1] if len(numbers) > 1 else "0",
        "build_date": "",
        "commit": "",
    }
    values.update(extra)
    return template.format_map(values)


def parse_manifest(text: str, origin: str) -> Manifest:
    """Parse manifest YAML; keys starting with ``_`` hold YAML anchors only."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise InvalidInput(f"{origin}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise InvalidInput(f"{origin}: expected a mapping with 'tools'")
    data = {key: value for key, value in raw.items() if not str(key).startswith("_")}
    tools = data.get("tools")
    if isinstance(tools, dict):
        data["tools"] = {
            name: {**body, "name": name} if isinstance(body, dict) else body
            for name, body in tools.items()
        }
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as err:
        raise InvalidInput(f"{origin}: {err}") from None
    for spec in manifest.tools.values():
        if spec.build is not None and spec.build.source not in manifest.sources:
            raise InvalidInput(
                f"{origin}: tools.{spec.name}.build.source names unknown source "
                f"{spec.build.source!r}; add it under 'sources'"
            )
        if spec.build is not None and spec.build.local is not None:
            expected = "./" + spec.build.local.rsplit("/", 1)[-1]
            if spec.build.package != expected:
                raise InvalidInput(
                    f"{origin}: tools.{spec.name}.build.package must be {expected!r} "
                    f"for the local source {spec.build.local!r}"
                )
    return manifest


def load_manifest(path: Path | None = None) -> Manifest:
    """The manifest at ``path``, ``$CLUSTERFORGE_TOOLS_MANIFEST``, or the shipped one."""
    override = os.environ.get("CLUSTERFORGE_TOOLS_MANIFEST")
    if path is None and override:
        path = Path(override).expanduser()
    if path is not None:
        return parse_manifest(path.read_text(encoding="utf-8"), str(path))
    return _shipped_manifest()


@cache
def _shipped_manifest() -> Manifest:
    text = resources.files("clusterforge.tools").joinpath("manifest.yaml").read_text("utf-8")
    return parse_manifest(text, "clusterforge/tools/manifest.yaml")
