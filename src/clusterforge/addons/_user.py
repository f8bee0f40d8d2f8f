"""Users' own add-ons: a chart (local, repository or OCI), a kustomize directory, or files.

A platform team's cluster rarely stops at the catalog: an internal chart,
a vendored kustomize overlay, a few plain manifests. :class:`UserAddon`
describes one such add-on with exactly one source and the same extras as a
catalog add-on (namespace, dependencies, DETIK sentences). It mirrors the
spec's ``spec.addons.<name>`` section; :meth:`UserAddon.from_document` reads
that section's JSON form, which is what a workflow step receives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clusterforge.addons._values import check_values
from clusterforge.errors import InvalidInput

__all__ = ["ChartSource", "UserAddon"]

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_REPO = re.compile(r"https?://[^\s]+")
_OCI = re.compile(r"oci://[^\s]+")
_CHART_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_VERSION = re.compile(r"[A-Za-z0-9_.+-]{1,128}")


@dataclass(frozen=True)
class ChartSource:
    """Where a Helm chart comes from: exactly one of ``path``, ``repo`` (+ ``name``), ``oci``.

    ``version`` is required with ``repo`` and ``oci`` (builds are pinned) and
    not allowed with ``path`` (a local chart's version is in its Chart.yaml).
    """

    path: Path | None = None
    repo: str | None = None
    name: str | None = None
    oci: str | None = None
    version: str | None = None

    def check(self, what: str) -> None:
        given = [k for k in ("path", "repo", "oci") if getattr(self, k) is not None]
        if len(given) != 1:
            got = f"; got {' and '.join(given)}" if given else ""
            raise InvalidInput(
                f"{what}: chart needs exactly one of path, repo (with name and version) "
                f"or oci (with version){got}"
            )
        if self.path is not None:
            for key in ("name", "version"):
                if getattr(self, key) is not None:
                    raise InvalidInput(
                        f"{what}: chart.{key} is for repo and oci charts; a local chart's "
                        "is in its Chart.yaml"
                    )
            if not self.path.exists():
                raise InvalidInput(f"{what}: chart.path {str(self.path)!r} does not exist")
            return
        if self.version is None or not _VERSION.fullmatch(self.version):
            raise InvalidInput(
                f"{what}: a chart from {given[0]} needs an exact chart.version (e.g. '1.2.3')"
            )
        if self.repo is not None:
            if not _REPO.fullmatch(self.repo):
                raise InvalidInput(
                    f"{what}: chart.repo {self.repo!r} is not a chart repository URL; "
                    "write 'https://host/path'"
                )
            if self.name is None or not _CHART_NAME.fullmatch(self.name):
                raise InvalidInput(f"{what}: a chart from repo needs chart.name (the chart's name)")
        else:
            if self.name is not None:
                raise InvalidInput(f"{what}: an oci reference already names the chart; drop name")
            if not _OCI.fullmatch(str(self.oci)):
                raise InvalidInput(
                    f"{what}: chart.oci {self.oci!r} is not an OCI reference; write "
                    "'oci://host/path/chart'"
                )

    @property
    def location(self) -> str:
        """Where the chart is, for messages."""
        if self.path is not None:
            return str(self.path)
        if self.repo is not None:
            return f"{self.name} {self.version} from {self.repo}"
        return f"{self.oci} {self.version}"


@dataclass(frozen=True)
class UserAddon:
    """One of the user's own add-ons. Exactly one of ``chart``, ``kustomize``, ``manifests``.

    ``namespace`` defaults to the add-on's name; ``values`` apply to charts
    only; ``manifests`` are files or directories (their ``*.yaml``, ``*.yml``
    and ``*.json`` files, in name order), applied as one manifest.
    """

    name: str
    chart: ChartSource | None = None
    kustomize: Path | None = None
    manifests: tuple[Path, ...] = ()
    values: Mapping[str, Any] | None = None
    namespace: str | None = None
    depends_on: tuple[str, ...] = ()
    sentences: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        what = f"user add-on {self.name!r}"
        if not _DNS_LABEL.fullmatch(self.name) or len(self.name) > 53:
            raise InvalidInput(
                f"{what}: the name must be a DNS-1123 label of at most 53 characters "
                "(lower-case letters, digits, '-')"
            )
        if self.namespace is not None and (
            not _DNS_LABEL.fullmatch(self.namespace) or len(self.namespace) > 63
        ):
            raise InvalidInput(f"{what}: namespace {self.namespace!r} is not a DNS-1123 label")
        sources = [
            name
            for name, present in (
                ("chart", self.chart is not None),
                ("kustomize", self.kustomize is not None),
                ("manifests", bool(self.manifests)),
            )
            if present
        ]
        if len(sources) != 1:
            got = f"; got {' and '.join(sources)}" if sources else ""
            raise InvalidInput(f"{what}: give exactly one of chart, kustomize, manifests{got}")
        if self.chart is not None:
            self.chart.check(what)
        elif self.values:
            raise InvalidInput(f"{what}: values apply to charts only; drop them or use a chart")
        check_values(self.values, what=what)
        if self.kustomize is not None and not any(
            (self.kustomize / n).exists()
            for n in ("kustomization.yaml", "kustomization.yml", "Kustomization")
        ):
            raise InvalidInput(
                f"{what}: kustomize {str(self.kustomize)!r} has no kustomization.yaml"
            )
        for path in self.manifests:
            if not path.exists():
                raise InvalidInput(f"{what}: manifest {str(path)!r} does not exist")
        if self.name in self.depends_on:
            raise InvalidInput(f"{what}: an add-on cannot depend on itself")

    @property
    def install_namespace(self) -> str:
        """Where the add-on's namespaced objects go."""
        return self.namespace or self.name

    @classmethod
    def from_document(
        cls, name: str, doc: Mapping[str, Any], *, base_dir: Path | None = None
    ) -> UserAddon:
        """The add-on described by ``spec.addons.<name>`` in the spec's JSON form.

        Relative paths are taken relative to ``base_dir`` (the spec file's
        directory) when given.
        """
        what = f"user add-on {name!r}"
        if not isinstance(doc, Mapping):
            raise InvalidInput(f"{what}: expected a mapping with chart, kustomize or manifests")

        def path(value: Any, key: str) -> Path:
            if not isinstance(value, str) or not value:
                raise InvalidInput(f"{what}: {key} must be a path")
            p = Path(value).expanduser()
            return base_dir / p if base_dir is not None and not p.is_absolute() else p

        chart = None
        if (raw := doc.get("chart")) is not None:
            if not isinstance(raw, Mapping):
                raise InvalidInput(f"{what}: chart must be a mapping (path, or repo/name/version)")
            chart = ChartSource(
                path=path(raw["path"], "chart.path") if raw.get("path") is not None else None,
                repo=_opt_str(raw.get("repo"), f"{what}: chart.repo"),
                name=_opt_str(raw.get("name"), f"{what}: chart.name"),
                oci=_opt_str(raw.get("oci"), f"{what}: chart.oci"),
                version=_opt_str(raw.get("version"), f"{what}: chart.version"),
            )
        kustomize = None
        if (raw := doc.get("kustomize")) is not None:
            kustomize = path(raw.get("path") if isinstance(raw, Mapping) else raw, "kustomize.path")
        manifests: tuple[Path, ...] = ()
        if (raw := doc.get("manifests")) is not None:
            paths = raw.get("paths") if isinstance(raw, Mapping) else raw
            if not isinstance(paths, Sequence) or isinstance(paths, str):
                raise InvalidInput(f"{what}: manifests.paths must be a list of paths")
            manifests = tuple(path(p, "manifests.paths[]") for p in paths)
        return cls(
            name=name,
            chart=chart,
            kustomize=kustomize,
            manifests=manifests,
            values=doc.get("values"),
            namespace=_opt_str(doc.get("namespace"), f"{what}: namespace"),
            depends_on=_str_tuple(doc.get("dependsOn"), f"{what}: dependsOn"),
            sentences=_str_tuple(doc.get("checks"), f"{what}: checks"),
        )


def _opt_str(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string")
    return value


def _str_tuple(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInput(f"{what} must be a list of strings")
    if not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{what} must be a list of strings")
    return tuple(value)
