"""What the pipeline asks of a validated spec.

Stages and steps should not re-derive facts from the raw document: which
add-ons are on and in what order, where a node group or add-on is defined,
which DETIK sentences to run and at which field each was written. These small
functions answer those questions once, over the typed model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clusterforge.errors import NotFound
from clusterforge.spec._base import listing
from clusterforge.spec.addons import CATALOG_ADDONS, DEFAULT, DISABLED, AddonSettings
from clusterforge.spec.cluster import ClusterSpec
from clusterforge.spec.errors import field_path
from clusterforge.spec.instance_types import INSTANCE_TYPES, InstanceType
from clusterforge.spec.nodegroups import NodeGroup


@dataclass(frozen=True)
class EnabledAddon:
    """An add-on the spec installs: a catalog add-on or one of the user's own."""

    name: str
    catalog: bool
    settings: AddonSettings

    @property
    def source(self) -> str:
        """``catalog``, ``chart``, ``kustomize`` or ``manifests``."""
        return "catalog" if self.catalog else self.settings.sources()[0]

    @property
    def namespace(self) -> str | None:
        """Where a user add-on installs (its ``namespace``, else its name); ``None`` for catalog."""
        return None if self.catalog else (self.settings.namespace or self.name)

    @property
    def setting(self) -> str:
        """``default`` or the pinned version: the ``addon-<name>`` parameter."""
        return self.settings.version or DEFAULT

    def document(self) -> dict[str, Any]:
        """This add-on as JSON data for steps (camelCase, resolved namespace and source)."""
        data: dict[str, Any] = self.settings.model_dump(mode="json", exclude_none=True)
        data.update(name=self.name, source=self.source)
        if self.namespace is not None:
            data["namespace"] = self.namespace
        return data


def spec_document(spec: ClusterSpec) -> dict[str, Any]:
    """The spec as its canonical YAML/JSON document: camelCase, defaults filled, no nulls.

    Parsing this document again gives an equal spec; it is what a build stores.
    """
    data: dict[str, Any] = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def addon_setting(spec: ClusterSpec, name: str) -> str:
    """``none``, ``default`` or a version — the state of add-on ``name`` in the spec."""
    setting = spec.spec.addons.get(name)
    if setting is None:
        return DISABLED
    return setting.version or DEFAULT


def catalog_addons(spec: ClusterSpec) -> list[EnabledAddon]:
    """Enabled catalog add-ons, in catalog (alphabetical) order."""
    addons = spec.spec.addons
    return [
        EnabledAddon(name, True, setting)
        for name in CATALOG_ADDONS
        if (setting := addons.get(name)) is not None
    ]


def user_addons(spec: ClusterSpec) -> list[EnabledAddon]:
    """Enabled user add-ons, dependencies first (ties broken by name)."""
    users = {
        name: setting
        for name, setting in spec.spec.addons.items()
        if setting is not None and name not in CATALOG_ADDONS
    }
    return [EnabledAddon(name, False, users[name]) for name in _install_order(users)]


def enabled_addons(spec: ClusterSpec) -> list[EnabledAddon]:
    """Every enabled add-on: catalog ones (alphabetical), then the user's (dependencies first)."""
    return [*catalog_addons(spec), *user_addons(spec)]


def addon(spec: ClusterSpec, name: str) -> EnabledAddon:
    """The enabled add-on ``name``; :class:`~clusterforge.errors.NotFound` otherwise."""
    for item in enabled_addons(spec):
        if item.name == name:
            return item
    enabled = [item.name for item in enabled_addons(spec)]
    raise NotFound(
        f"cluster {spec.name}: add-on {name!r} is not enabled; enabled: "
        f"{listing(enabled) or 'none'}"
    )


def node_group(spec: ClusterSpec, name: str) -> NodeGroup:
    """The node group ``name``; :class:`~clusterforge.errors.NotFound` otherwise."""
    for group in spec.spec.node_groups:
        if group.name == name:
            return group
    names = [group.name for group in spec.spec.node_groups]
    raise NotFound(f"cluster {spec.name}: no node group {name!r}; node groups: {listing(names)}")


def capacity(group: NodeGroup) -> InstanceType:
    """cpu, memory and pod capacity of one node of ``group``."""
    return INSTANCE_TYPES[group.instance_type]


def check_sentences(spec: ClusterSpec) -> list[tuple[str, str]]:
    """``(field path, sentence)`` for every DETIK sentence the spec adds, enabled add-ons only.

    The path lets a grammar error found by :mod:`clusterforge.checks.detik`
    name the field to fix, e.g. ``spec.addons.web.checks[1]``.
    """
    found = [
        (field_path(("spec", "validation", "checks", i)), sentence)
        for i, sentence in enumerate(spec.spec.validation.checks)
    ]
    for item in enabled_addons(spec):
        found.extend(
            (field_path(("spec", "addons", item.name, "checks", i)), sentence)
            for i, sentence in enumerate(item.settings.checks)
        )
    return found


def _install_order(users: Mapping[str, AddonSettings]) -> list[str]:
    """Kahn's algorithm with a sorted ready set: deterministic, dependencies first."""
    pending = {name: {d for d in s.depends_on if d in users} for name, s in users.items()}
    order: list[str] = []
    while pending:
        ready = sorted(name for name, deps in pending.items() if not deps)
        if not ready:  # a cycle; validation refuses these, so this is a bug
            raise AssertionError(f"dependency cycle among {sorted(pending)}")
        for name in ready:
            del pending[name]
            order.append(name)
        for deps in pending.values():
            deps.difference_update(ready)
    return order
