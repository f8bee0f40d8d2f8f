"""Install and uninstall: ``helm template … | kubectl apply --server-side``, made exact.

Why server-side apply of a rendered manifest rather than ``helm upgrade
--install``:

* no release state in the cluster — nothing but the objects themselves, so a
  cluster built by clusterforge is not tied to Helm and an Argo worker pod,
  the local engine or a human with kubectl all act the same way;
* the same manifest can be rendered, reviewed and diffed without a cluster
  (:func:`~clusterforge.addons.render`), and what is applied is exactly that;
* server-side apply is idempotent and field-owned: clusterforge
  (field manager ``clusterforge``) owns the fields it sets, controllers keep
  theirs (status, allocated cluster IPs), and a hand edit to a field the
  add-on sets is put back on the next install (``--force-conflicts``);
* one code path installs catalog charts, users' charts, kustomize output and
  plain manifests.

What Helm would otherwise provide is done here:

* **change detection** — ``kubectl diff --server-side`` (a server-side dry
  run) before applying: exit 0 means the cluster already matches, so nothing
  is applied and the install reports ``changed=False``;
* **ordering** — Namespaces and CRDs are applied (and CRDs waited for) before
  the objects that live in them or use them;
* **pruning** — an inventory ConfigMap (``clusterforge-addon-<name>`` in the
  add-on's namespace) lists what the last install applied; objects that are
  no longer rendered (say, a webhook switched off) are deleted;
* **uninstall** — every object carries ``clusterforge.dev/addon=<name>``, so
  uninstall deletes by label across every kind and namespace, then the
  namespaces the install created, and checks nothing labelled is left.
  CRDs go too (and with them every custom object of their kinds) unless they
  carry ``clusterforge.dev/uninstall=keep`` (cert-manager: ``crds.keep``).
  A namespace that existed before the add-on is never adopted or deleted.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clusterforge.addons._catalog import get
from clusterforge.addons._manifest import (
    ADDON_LABEL,
    FIELD_MANAGER,
    KEEP_LABEL,
    Obj,
    ObjectRef,
    label_objects,
)
from clusterforge.addons._render import catalog_objects, user_objects
from clusterforge.addons._run import first_error_line, kubectl
from clusterforge.addons._user import UserAddon
from clusterforge.errors import InvalidInput, OperationFailed

__all__ = ["INVENTORY_PREFIX", "InstallResult", "install", "install_user_addon", "uninstall"]

#: The inventory ConfigMap of add-on X is ``<INVENTORY_PREFIX>X`` in X's namespace.
INVENTORY_PREFIX = "clusterforge-addon-"

_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")
_APPLY = ("--server-side", f"--field-manager={FIELD_MANAGER}", "--force-conflicts")


@dataclass(frozen=True)
class InstallResult:
    """What an install did.

    ``changed`` is False when the cluster already matched the manifest (the
    install applied nothing); ``objects`` are the objects the add-on consists
    of; ``pruned`` those deleted because they are no longer rendered;
    ``diff`` the ``kubectl diff`` output of the objects that existed.
    """

    addon: str
    namespace: str
    changed: bool
    objects: tuple[ObjectRef, ...]
    pruned: tuple[ObjectRef, ...] = ()
    diff: str = ""


def install(
    name: str,
    *,
    kubeconfig: Path,
    values: Mapping[str, Any] | None = None,
    registry: str | None = None,
    version: str | None = None,
    wait: bool = True,
    timeout: float = 300.0,
) -> InstallResult:
    """Install (or converge) catalog add-on ``name`` on the cluster of ``kubeconfig``.

    With ``wait`` it returns once the add-on's Deployments, StatefulSets and
    DaemonSets are rolled out, so add-ons that depend on it can follow.
    """
    addon = get(name)
    objects = catalog_objects(name, values=values, registry=registry, version=version)
    return _converge(name, addon.namespace, objects, Path(kubeconfig), wait, timeout)


def install_user_addon(
    spec: UserAddon, *, kubeconfig: Path, wait: bool = True, timeout: float = 300.0
) -> InstallResult:
    """Install (or converge) one of the user's own add-ons, exactly like a catalog one."""
    objects = user_objects(spec)
    return _converge(spec.name, spec.install_namespace, objects, Path(kubeconfig), wait, timeout)


def uninstall(name: str, *, kubeconfig: Path, timeout: float = 300.0) -> None:
    """Remove everything an install of add-on ``name`` created (catalog or user's).

    Deletes every object labelled ``clusterforge.dev/addon=<name>`` in every
    namespace and of every kind — CRDs included unless labelled
    ``clusterforge.dev/uninstall=keep`` — then the namespaces the install
    created; raises OperationFailed naming what is left if anything remains.
    Uninstalling an add-on that is not installed does nothing.
    """
    _check_label_value(name)
    kubeconfig = Path(kubeconfig)
    selector = f"{ADDON_LABEL}={name},{KEEP_LABEL}!=keep"
    deadline = time.monotonic() + timeout
    types = [t for t in _listable_types(kubeconfig) if t != "namespaces"]
    leftovers: list[ObjectRef] = []
    errors: list[str] = []
    for _attempt in range(3):
        # Failures show up as leftovers below; their messages explain them.
        errors = [
            *_delete(kubeconfig, [",".join(types)], ["--all-namespaces", "-l", selector], deadline),
            *_delete(kubeconfig, ["namespaces"], ["-l", selector], deadline),
        ]
        leftovers = _labelled(kubeconfig, [*types, "namespaces"], selector)
        if not leftovers:
            return
        # Controllers may recreate derived objects (Endpoints copy a Service's
        # labels) until they see their owner gone; give them a moment.
        time.sleep(1.0)
    shown = ", ".join(str(ref) for ref in leftovers[:10])
    why = f" (kubectl said: {first_error_line(chr(10).join(errors))})" if errors else ""
    raise OperationFailed(
        f"uninstall of add-on {name!r} left {len(leftovers)} object(s) behind: {shown}{why}; "
        "a finalizer may be waiting for a controller that is gone — inspect them with "
        f"`kubectl get all -A -l {ADDON_LABEL}={name}`"
    )


# --- install ---------------------------------------------------------------


def _converge(
    name: str,
    namespace: str,
    objects: list[Obj],
    kubeconfig: Path,
    wait: bool,
    timeout: float,
) -> InstallResult:
    deadline = time.monotonic() + timeout
    inventory_name = f"{INVENTORY_PREFIX}{name}"
    namespaces = [o["metadata"]["name"] for o in objects if _is(o, "v1", "Namespace")]
    live = _get_live(kubeconfig, namespace, namespaces, inventory_name)
    foreign = {
        ns
        for ns in namespaces
        if (found := live.get(("Namespace", ns))) is not None
        and (found.get("metadata", {}).get("labels") or {}).get(ADDON_LABEL) != name
    }
    # A namespace that existed before the add-on is used, never adopted.
    objects = [
        o for o in objects if not (_is(o, "v1", "Namespace") and o["metadata"]["name"] in foreign)
    ]
    refs = tuple(ObjectRef.of(o) for o in objects)
    previous = _read_inventory(live.get(("ConfigMap", inventory_name)))
    objects = [*objects, *label_objects([_inventory(inventory_name, namespace, objects)], name)]

    first = [o for o in objects if _is(o, "v1", "Namespace") or _is_crd(o)]
    rest = [o for o in objects if not (_is(o, "v1", "Namespace") or _is_crd(o))]
    changed = False
    diffs: list[str] = []
    for phase in (first, rest):
        for group_ns, group in _by_namespace(phase, namespace).items():
            if not changed:
                same, text = _diff(kubeconfig, group_ns, group)
                diffs.append(text)
                if same:
                    continue
                changed = True
            _apply(kubeconfig, group_ns, group, name)
        crds = [o["metadata"]["name"] for o in phase if _is_crd(o)]
        if crds and changed:
            _wait_established(kubeconfig, crds, deadline)

    current = {_key(ref, namespace) for ref in refs}
    current.add(("", "ConfigMap", namespace, inventory_name))
    stale = [entry for entry in previous if _key(entry, namespace) not in current]
    if stale:
        changed = True
        _prune(kubeconfig, namespace, stale, deadline)
    if wait:
        _wait_rolled_out(kubeconfig, namespace, objects, deadline)
    return InstallResult(
        addon=name,
        namespace=namespace,
        changed=changed,
        objects=refs,
        pruned=tuple(stale),
        diff="".join(diffs),
    )


def _is(obj: Mapping[str, Any], api_version: str, kind: str) -> bool:
    return bool(obj.get("apiVersion") == api_version and obj.get("kind") == kind)


def _is_crd(obj: Mapping[str, Any]) -> bool:
    return bool(
        obj.get("kind") == "CustomResourceDefinition"
        and str(obj.get("apiVersion", "")).startswith("apiextensions.k8s.io/")
    )


def _key(ref: ObjectRef, namespace: str) -> tuple[str, str, str, str]:
    return (ref.group, ref.kind, ref.namespace or namespace, ref.name)


def _by_namespace(objects: Iterable[Obj], default: str) -> dict[str, list[Obj]]:
    """Objects grouped by the namespace ``kubectl -n`` must be for them."""
    groups: dict[str, list[Obj]] = defaultdict(list)
    for obj in objects:
        groups[obj["metadata"].get("namespace") or default].append(obj)
    return dict(groups)


def _manifest(objects: Sequence[Obj]) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)})


def _get_live(
    kubeconfig: Path, namespace: str, namespaces: list[str], inventory: str
) -> dict[tuple[str, str], Obj]:
    """The add-on's Namespaces and its inventory as they are now (one request)."""
    wanted = [f"namespace/{ns}" for ns in namespaces] + [f"configmap/{inventory}"]
    done = kubectl(kubeconfig, "get", *wanted, "-n", namespace, "--ignore-not-found", "-o", "json")
    if not done.ok:
        raise OperationFailed(
            f"cannot read the cluster ({kubeconfig}): {first_error_line(done.stderr)}"
        )
    found: dict[tuple[str, str], Obj] = {}
    for item in _items(done.stdout):
        found[(item["kind"], item["metadata"]["name"])] = item
    return found


def _items(stdout: str) -> list[Obj]:
    text = stdout.strip()
    if not text:
        return []
    data = json.loads(text)
    if data.get("kind", "").endswith("List"):
        return list(data.get("items") or [])
    return [data]


def _inventory(name: str, namespace: str, objects: Iterable[Obj]) -> Obj:
    entries = [
        {
            "apiVersion": o["apiVersion"],
            "kind": o["kind"],
            "name": o["metadata"]["name"],
            **({"namespace": o["metadata"]["namespace"]} if o["metadata"].get("namespace") else {}),
        }
        for o in objects
    ]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"objects": json.dumps(entries, indent=1, sort_keys=True)},
    }


def _read_inventory(configmap: Obj | None) -> list[ObjectRef]:
    if configmap is None:
        return []
    try:
        entries = json.loads((configmap.get("data") or {}).get("objects", "[]"))
        return [
            ObjectRef(e["apiVersion"], e["kind"], e["name"], e.get("namespace")) for e in entries
        ]
    except (ValueError, KeyError, TypeError):
        # A damaged inventory only costs pruning; the install itself still converges.
        return []


def _diff(kubeconfig: Path, namespace: str, objects: Sequence[Obj]) -> tuple[bool, str]:
    """(cluster already matches, diff text) via a server-side dry run."""
    done = kubectl(
        kubeconfig, "diff", *_APPLY, "-n", namespace, "-f", "-", stdin=_manifest(objects)
    )
    if done.returncode == 0:
        return True, ""
    if done.returncode == 1:
        return False, done.stdout
    # kubectl could not diff (no `diff` program, an object it cannot dry-run):
    # apply anyway and count it as a change; apply reports any real error.
    return False, ""


def _apply(kubeconfig: Path, namespace: str, objects: Sequence[Obj], addon: str) -> None:
    done = kubectl(
        kubeconfig, "apply", *_APPLY, "-n", namespace, "-f", "-", stdin=_manifest(objects)
    )
    if not done.ok:
        raise OperationFailed(
            f"add-on {addon!r}: kubectl apply failed: {first_error_line(done.stderr)}"
        )


def _wait_established(kubeconfig: Path, crds: list[str], deadline: float) -> None:
    seconds = _remaining(deadline)
    done = kubectl(
        kubeconfig,
        "wait",
        "--for=condition=Established",
        *(f"customresourcedefinition/{crd}" for crd in crds),
        f"--timeout={seconds}s",
        timeout=seconds + 30,
    )
    if not done.ok:
        raise OperationFailed(
            f"CRDs {', '.join(crds)} were not established within {seconds}s: "
            f"{first_error_line(done.stderr)}"
        )


def _prune(kubeconfig: Path, namespace: str, stale: list[ObjectRef], deadline: float) -> None:
    groups: dict[str, list[str]] = defaultdict(list)
    for ref in stale:
        kind = f"{ref.kind}.{ref.group}" if ref.group else ref.kind
        groups[ref.namespace or namespace].append(f"{kind}/{ref.name}")
    for ns, names in groups.items():
        # Kinds whose CRD went away are already gone; kubectl says so, harmlessly.
        errors = _delete(kubeconfig, names, ["-n", ns], deadline, tolerate_unknown=True)
        if errors:
            raise OperationFailed(
                f"could not remove objects no longer rendered ({', '.join(names)}): "
                f"{first_error_line(chr(10).join(errors))}"
            )


def _wait_rolled_out(
    kubeconfig: Path, namespace: str, objects: Iterable[Obj], deadline: float
) -> None:
    groups: dict[str, list[str]] = defaultdict(list)
    for obj in objects:
        if obj["kind"] in _WORKLOADS and str(obj["apiVersion"]).startswith("apps/"):
            groups[obj["metadata"].get("namespace") or namespace].append(
                f"{obj['kind'].lower()}/{obj['metadata']['name']}"
            )
    for ns, names in groups.items():
        seconds = _remaining(deadline)
        done = kubectl(
            kubeconfig,
            "rollout",
            "status",
            *names,
            "-n",
            ns,
            f"--timeout={seconds}s",
            timeout=seconds + 30,
        )
        if not done.ok:
            raise OperationFailed(
                f"{', '.join(names)} in {ns} did not roll out within {seconds}s: "
                f"{first_error_line(done.stderr)}; see `kubectl -n {ns} describe` "
                "of their pods (pending: no node fits or tolerates; failing: image or config)"
            )


def _remaining(deadline: float) -> int:
    return max(1, int(deadline - time.monotonic()))


# --- uninstall -------------------------------------------------------------


def _check_label_value(name: str) -> None:
    import re

    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name):
        raise InvalidInput(f"{name!r} is not an add-on name (a DNS-1123 label)")


def _listable_types(kubeconfig: Path) -> list[str]:
    """Every resource type the cluster can list and delete (e.g. ``deployments.apps``)."""
    done = kubectl(kubeconfig, "api-resources", "--verbs=list,delete", "-o", "name")
    # An aggregated API that does not answer makes kubectl exit non-zero but
    # still print every other type; those are all uninstall can reach anyway.
    types = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if not types:
        raise OperationFailed(
            f"cannot list the cluster's resource types ({kubeconfig}): "
            f"{first_error_line(done.stderr)}"
        )
    return types


def _labelled(kubeconfig: Path, types: list[str], selector: str) -> list[ObjectRef]:
    done = kubectl(
        kubeconfig, "get", ",".join(types), "--all-namespaces", "-l", selector, "-o", "json"
    )
    try:
        items = _items(done.stdout)
    except ValueError as err:
        raise OperationFailed(
            f"cannot list labelled objects: {first_error_line(done.stderr)}"
        ) from err
    return [ObjectRef.of(item) for item in items]


def _delete(
    kubeconfig: Path,
    what: list[str],
    where: list[str],
    deadline: float,
    *,
    tolerate_unknown: bool = False,
) -> list[str]:
    """Delete and wait; returns kubectl's error lines (warnings and tolerated ones dropped)."""
    seconds = _remaining(deadline)
    done = kubectl(
        kubeconfig,
        "delete",
        *what,
        *where,
        "--ignore-not-found",
        "--wait=true",
        f"--timeout={seconds}s",
        timeout=seconds + 30,
    )
    if done.ok:
        return []
    return [
        line
        for line in done.stderr.splitlines()
        if line.strip()
        and not line.startswith("Warning:")
        and not (tolerate_unknown and "doesn't have a resource type" in line)
    ]
