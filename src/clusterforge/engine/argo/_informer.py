"""A list-then-watch cache of one namespace's Workflows, as Kubernetes clients keep one.

A server that follows many builds must not GET every Workflow every half
second. It lists them once, then holds one watch open from the list's
``resourceVersion``: the API server sends each change as it happens, and
the watch resumes from the last version it saw (bookmarks keep that version
fresh while nothing changes). When the API server has compacted that
version away (410 Gone) the informer lists again. Every object seen —
listed or watched — goes to ``handle`` (the engine journals its node
events there) before waiters are woken, so a woken waiter reads the change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kubernetes import watch  # type: ignore[import-untyped]
from kubernetes.client.rest import ApiException  # type: ignore[import-untyped]

from clusterforge.engine.argo._kube import GROUP, VERSION, Kube

__all__ = ["Informer"]

log = logging.getLogger("clusterforge.engine.argo")

_WATCH_SECONDS = 60
"""How long one watch request stays open before it is renewed (from the same version)."""


class Informer:
    """Objects of ``plural`` in ``kube``'s namespace, kept current by a watch thread."""

    def __init__(
        self, kube: Kube, plural: str, handle: Callable[[str, dict[str, Any]], None]
    ) -> None:
        self.kube = kube
        self.plural = plural
        self.handle = handle
        self.synced = threading.Event()
        self._objects: dict[str, dict[str, Any]] = {}
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._watch: Any = None
        self._thread = threading.Thread(target=self._run, name=f"informer-{plural}", daemon=True)

    def start(self, timeout: float = 30.0) -> None:
        """Start watching; returns once the first list is in (or ``timeout`` ran out)."""
        self._thread.start()
        self.synced.wait(timeout)

    def stop(self) -> None:
        self._stopping.set()
        if self._watch is not None:
            self._watch.stop()
        with self._changed:
            self._changed.notify_all()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def get(self, name: str) -> dict[str, Any] | None:
        return self._objects.get(name)

    def items(self) -> list[dict[str, Any]]:
        return list(self._objects.values())

    def wait_change(self, timeout: float) -> None:
        """Block until the next change arrives (or ``timeout`` seconds)."""
        with self._changed:
            self._changed.wait(timeout)

    # -- the thread ----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                version = self._relist()
                self._follow(version)
            except Exception as err:  # the API server went away: try again shortly
                log.warning("watching %s failed (%s); listing again in 1s", self.plural, err)
                self._stopping.wait(1.0)

    def _relist(self) -> str:
        listing = self.kube.call(
            self.plural,
            lambda: self.kube.custom.list_namespaced_custom_object(
                GROUP, VERSION, self.kube.namespace, self.plural
            ),
        )
        fresh = {str(o["metadata"]["name"]): o for o in listing.get("items") or []}
        for name in set(self._objects) - set(fresh):
            self._apply("DELETED", self._objects[name])
        for obj in fresh.values():
            self._apply("ADDED", obj)
        self.synced.set()
        return str((listing.get("metadata") or {}).get("resourceVersion") or "")

    def _follow(self, version: str) -> None:
        """Watch from ``version`` until the version is gone (410) or we stop."""
        while not self._stopping.is_set():
            self._watch = watch.Watch()
            try:
                for event in self._watch.stream(
                    self.kube.custom.list_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    self.kube.namespace,
                    self.plural,
                    resource_version=version,
                    allow_watch_bookmarks=True,
                    timeout_seconds=_WATCH_SECONDS,
                ):
                    kind, obj = event["type"], event["raw_object"]
                    version = str(obj["metadata"]["resourceVersion"])
                    if kind != "BOOKMARK":
                        self._apply(kind, obj)
            except ApiException as err:
                if err.status == 410:  # compacted: list again
                    return
                raise

    def _apply(self, kind: str, obj: dict[str, Any]) -> None:
        name = str(obj["metadata"]["name"])
        try:  # first: a reader who finds the new object in the cache finds its effects
            self.handle(kind, obj)
        except Exception:  # one bad object must not stop the watch
            log.exception("handling %s %s failed", kind, name)
        if kind == "DELETED":
            self._objects.pop(name, None)
        else:
            self._objects[name] = obj
        with self._changed:
            self._changed.notify_all()
