"""``spec.addons``: which add-ons a cluster gets, and from where.

The section is a map from add-on name to its setting. For the catalog add-ons
clusterforge ships (:data:`CATALOG_ADDONS`) the setting is

* ``none`` (or leaving the name out): not installed;
* ``default``: installed at the catalog's version with its default values;
* an exact version, e.g. ``"0.7.2"``: installed at that version;
* an object ``{version?, values?, registry?, checks?}``: values are Helm
  values merged over the catalog's, ``registry`` replaces the image registry
  (``global.registry``, for mirrors), ``checks`` adds DETIK sentences.

Any other name is the user's own add-on and needs exactly one source —
``chart`` (a local ``path``; a ``repo`` + ``name`` + ``version``; or an ``oci``
reference + ``version``), ``kustomize`` (``path``) or ``manifests``
(``paths``) — plus optional ``values`` (charts only), ``namespace`` (default:
the add-on's name), ``dependsOn`` (other enabled add-ons, installed first) and
``checks``. ``none`` disables a user add-on too.

One model, :class:`AddonSettings`, holds either kind so that each field
reports its own errors at its own path; which fields suit which kind, and the
references between add-ons, are checked over the whole map by
:func:`addon_map_problems`. Values are free-form but must be plain JSON data
(mappings with string keys, lists, strings, numbers, booleans, null): they
travel to Helm as a values file, never as ``--set`` strings.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from graphlib import CycleError, TopologicalSorter
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    WrapSerializer,
    field_validator,
    model_validator,
)
from pydantic_core import core_schema

from clusterforge.spec._base import (
    JsonSchemaHint,
    Loc,
    SpecModel,
    listing,
    problem,
    raise_problems,
    regex_check,
    show,
)
from clusterforge.spec.names import AddonName, Namespace
from clusterforge.spec.paths import LocalPath
from clusterforge.spec.sentences import Sentence
from clusterforge.spec.versions import SemVer, is_semver

#: The add-ons clusterforge ships, by name (see ``clusterforge.addons``).
CATALOG_ADDONS: tuple[str, ...] = (
    "cert-manager",
    "cluster-autoscaler",
    "coredns",
    "fluent-bit",
    "ingress-nginx",
    "metrics-server",
)
#: The setting that leaves an add-on out.
DISABLED = "none"
#: The setting that installs a catalog add-on as the catalog ships it.
DEFAULT = "default"
SOURCES: tuple[str, ...] = ("chart", "kustomize", "manifests")

_REGISTRY = r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*"
_REPO = r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%+-]+)*/?"
_OCI = r"oci://[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)+"
_CHART_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"

Registry = Annotated[
    str,
    AfterValidator(
        regex_check(
            _REGISTRY,
            lambda v: (
                f"{show(v)} is not an image registry; write a host with an optional port "
                "and path, e.g. 'mirror.internal:5000/k8s'"
            ),
            max_length=255,
        )
    ),
    JsonSchemaHint({"pattern": f"^{_REGISTRY}$", "maxLength": 255}),
]
RepoUrl = Annotated[
    str,
    AfterValidator(
        regex_check(
            _REPO,
            lambda v: f"{show(v)} is not a chart repository URL; write 'https://host[:port]/path'",
            max_length=2048,
        )
    ),
    JsonSchemaHint({"pattern": f"^{_REPO}$", "maxLength": 2048}),
]
OciRef = Annotated[
    str,
    AfterValidator(
        regex_check(
            _OCI,
            lambda v: (
                f"{show(v)} is not an OCI chart reference; write "
                "'oci://registry[:port]/path/chart' and the version in 'version'"
            ),
            max_length=2048,
        )
    ),
    JsonSchemaHint({"pattern": f"^{_OCI}$", "maxLength": 2048}),
]
ChartName = Annotated[
    str,
    AfterValidator(
        regex_check(
            _CHART_NAME,
            lambda v: f"{show(v)} is not a chart name; use letters, digits, '-', '_' and '.'",
            max_length=253,
        )
    ),
    JsonSchemaHint({"pattern": f"^{_CHART_NAME}$", "maxLength": 253}),
]


def values_problems(value: Any, loc: Loc = ()) -> list[tuple[Loc, str]]:
    """Where ``value`` is not plain JSON data (YAML dates, binary, sets, odd keys)."""
    if value is None or isinstance(value, bool | int | str):
        return []
    if isinstance(value, float):
        return [] if value == value and abs(value) != float("inf") else [(loc, "not a number")]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in values_problems(item, (*loc, i))]
    if isinstance(value, dict):
        found: list[tuple[Loc, str]] = []
        for key, item in value.items():
            if not isinstance(key, str):
                found.append(((*loc, str(key)), f"key {show(key)} must be a string; quote it"))
            else:
                found.extend(values_problems(item, (*loc, key)))
        return found
    if isinstance(value, datetime.date | datetime.datetime):
        return [(loc, f"YAML read {value} as a date; quote it to keep it a string")]
    return [(loc, f"{type(value).__name__} is not plain data; use strings, numbers, lists, maps")]


def _check_values(values: dict[str, Any]) -> dict[str, Any]:
    raise_problems("values", values_problems(values))
    return values


Values = Annotated[
    dict[str, Any],
    AfterValidator(_check_values),
    JsonSchemaHint({"description": "Helm values, merged over the chart's defaults."}),
]


class ChartSource(SpecModel):
    """A Helm chart: a local path; repo, name and version; or an oci reference and version.

    Exactly one of ``path``, ``repo``, ``oci``.
    """

    path: LocalPath | None = Field(
        None, description="A chart directory or packaged .tgz (relative to the spec file)."
    )
    repo: RepoUrl | None = Field(None, description="A chart repository URL (with name, version).")
    name: ChartName | None = Field(None, description="The chart's name in repo.")
    oci: OciRef | None = Field(None, description="An OCI chart reference 'oci://host/path/chart'.")
    version: SemVer | None = Field(
        None, description="The exact chart version; required with repo and oci."
    )

    @model_validator(mode="after")
    def _one_location(self) -> ChartSource:
        given = [k for k in ("path", "repo", "oci") if getattr(self, k) is not None]
        problems: list[tuple[Loc, str]] = []
        if len(given) != 1:
            problems.append(
                (
                    (),
                    "give exactly one of path, repo (with name and version) or oci (with version)"
                    + (f"; got {listing(given)}" if given else ""),
                )
            )
        elif given == ["path"]:
            problems.extend(
                ((k,), f"'{k}' is for repo and oci charts; a local chart's is in its Chart.yaml")
                for k in ("name", "version")
                if getattr(self, k) is not None
            )
        elif given == ["repo"]:
            problems.extend(
                ((k,), f"a chart from repo needs '{k}'")
                for k in ("name", "version")
                if getattr(self, k) is None
            )
        else:
            if self.version is None:
                problems.append((("version",), "a chart from oci needs 'version'"))
            if self.name is not None:
                problems.append((("name",), "an oci reference already names the chart"))
        raise_problems("chart", problems)
        return self


class KustomizeSource(SpecModel):
    """A kustomize directory, built with ``kubectl kustomize``."""

    path: LocalPath = Field(description="The directory holding kustomization.yaml.")


class ManifestsSource(SpecModel):
    """Plain Kubernetes manifests, applied in order."""

    paths: list[LocalPath] = Field(
        min_length=1, max_length=100, description="YAML files or directories of them."
    )


class AddonSettings(SpecModel):
    """An enabled add-on: a catalog add-on's settings, or your own add-on's source."""

    version: SemVer | None = Field(
        None, description="Catalog add-ons: the exact version to install (default: catalog's)."
    )
    values: Values | None = Field(
        None, description="Catalog add-ons and charts: Helm values merged over the defaults."
    )
    registry: Registry | None = Field(
        None, description="Catalog add-ons: image registry replacing the default (a mirror)."
    )
    chart: ChartSource | None = Field(None, description="Your add-on: a Helm chart.")
    kustomize: KustomizeSource | None = Field(None, description="Your add-on: kustomize.")
    manifests: ManifestsSource | None = Field(None, description="Your add-on: plain manifests.")
    namespace: Namespace | None = Field(
        None, description="Your add-on: namespace to install into (default: the add-on's name)."
    )
    depends_on: list[AddonName] = Field(
        default_factory=list,
        max_length=32,
        description="Your add-on: enabled add-ons that must be installed first.",
    )
    checks: list[Sentence] = Field(
        default_factory=list,
        max_length=100,
        description="DETIK sentences proving the add-on works; run in the validation stage.",
    )

    @field_validator("depends_on")
    @classmethod
    def _unique(cls, names: list[str]) -> list[str]:
        raise_problems(
            "dependsOn",
            [
                ((i,), f"{name!r} is listed twice")
                for i, name in enumerate(names)
                if name in names[:i]
            ],
        )
        return names

    def sources(self) -> list[str]:
        """Which of chart, kustomize, manifests are given."""
        return [name for name in SOURCES if getattr(self, name) is not None]


def _coerce_setting(value: Any) -> Any:
    """Short forms: ``none`` → disabled, ``default`` → ``{}``, ``"1.2.3"`` → ``{version}``."""
    if isinstance(value, str):
        if value == DISABLED:
            return None
        if value == DEFAULT:
            return {}
        if is_semver(value):
            return {"version": value}
        raise problem(
            f"{show(value)} is not a setting; write 'none', 'default', an exact version such as "
            "'3.12.2', or an object"
        )
    if value is None:
        raise problem("empty; write 'none' to leave it out, or 'default' to install it")
    if isinstance(value, bool):
        raise problem(
            f"{show(value)} is a boolean (YAML reads yes/no/true/false so); write 'none' or "
            "'default'"
        )
    if isinstance(value, int | float):
        raise problem(f"{show(value)} is a number; quote versions, e.g. '0.7.2'")
    return value


def _dump_setting(
    value: AddonSettings | None, handler: core_schema.SerializerFunctionWrapHandler
) -> Any:
    return DISABLED if value is None else handler(value)


AddonSetting = Annotated[
    AddonSettings | None,
    BeforeValidator(
        _coerce_setting,
        json_schema_input_type=Annotated[str, JsonSchemaHint({"enum": [DISABLED, DEFAULT]})]
        | SemVer
        | AddonSettings,
    ),
    WrapSerializer(_dump_setting),
]


def addon_map_problems(addons: Mapping[str, AddonSettings | None]) -> list[tuple[Loc, str]]:
    """Everything wrong with the map as a whole; locations relative to the map."""
    problems: list[tuple[Loc, str]] = []
    enabled = sorted(name for name, setting in addons.items() if setting is not None)
    for name, setting in addons.items():
        if setting is None:
            continue
        if name in CATALOG_ADDONS:
            problems.extend(_catalog_problems(name, setting))
        else:
            problems.extend(_user_problems(name, setting))
        for index, dep in enumerate(setting.depends_on):
            if dep == name:
                problems.append(((name, "dependsOn", index), "an add-on cannot depend on itself"))
            elif dep not in enabled:
                state = "is set to 'none'" if dep in addons else "is not in spec.addons"
                others = [n for n in enabled if n != name]
                problems.append(
                    (
                        (name, "dependsOn", index),
                        f"{dep!r} {state}; dependencies must be enabled add-ons: "
                        f"{listing(others) or 'none enabled'}",
                    )
                )
    graph = {
        name: [d for d in setting.depends_on if d != name and addons.get(d) is not None]
        for name, setting in addons.items()
        if setting is not None
    }
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as err:
        # graphlib lists a cycle from dependent to dependency backwards; "a → b"
        # below reads "a depends on b".
        cycle: list[str] = list(reversed(err.args[1]))
        start = min(cycle[:-1])
        problems.append(
            ((start, "dependsOn"), f"dependency cycle: {' → '.join(_rotate(cycle, start))}")
        )
    return problems


def _rotate(cycle: list[str], start: str) -> list[str]:
    ring = cycle[:-1]
    at = ring.index(start)
    ring = ring[at:] + ring[:at]
    return [*ring, start]


def _catalog_problems(name: str, setting: AddonSettings) -> list[tuple[Loc, str]]:
    misplaced = [*setting.sources(), *(["namespace"] if setting.namespace else [])]
    if setting.depends_on:
        misplaced.append("dependsOn")
    return [
        (
            (name, field),
            f"{name!r} is a catalog add-on, which takes version, values, registry and checks; "
            f"'{field}' is for your own add-ons — give yours a name outside the catalog",
        )
        for field in misplaced
    ]


def _user_problems(name: str, setting: AddonSettings) -> list[tuple[Loc, str]]:
    sources = setting.sources()
    if not sources:
        return [
            (
                (name,),
                f"{name!r} is not a catalog add-on (catalog: {listing(CATALOG_ADDONS)}); "
                "your own add-on needs exactly one source: chart, kustomize or manifests",
            )
        ]
    problems: list[tuple[Loc, str]] = []
    if len(sources) > 1:
        problems.append(((name,), f"give exactly one source, not {listing(sources)}"))
    for field in ("version", "registry"):
        if getattr(setting, field) is not None:
            where = "chart.version" if field == "version" else "your chart's values"
            problems.append(
                ((name, field), f"'{field}' is for catalog add-ons; for your own, use {where}")
            )
    if setting.values is not None and setting.chart is None:
        problems.append(((name, "values"), "'values' applies to charts only"))
    return problems
