"""The Kubernetes API calls the Argo backend makes, with one clear error each.

Three failures a user meets first get their own message naming the fix: the
API server cannot be reached (``--kubeconfig``), it has no Argo CRDs
(``clusterforge argo up`` / ``argo install``), or the object is not there.
Everything else the API server refuses is reported with its own reason.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import urllib3
from kubernetes import client, config  # type: ignore[import-untyped]
from kubernetes.client.rest import ApiException  # type: ignore[import-untyped]

from clusterforge.errors import InvalidInput, NotFound, OperationFailed

T = TypeVar("T")
GROUP, VERSION = "argoproj.io", "v1alpha1"
_NO_RESOURCE = ("the server could not find the requested resource", "404 page not found")
"""What the API server answers for a group or resource it does not serve (no CRD)."""


class Kube:
    """A client of one namespace of one API server."""

    def __init__(self, kubeconfig: str | None, namespace: str) -> None:
        if kubeconfig and not Path(kubeconfig).is_file():
            raise InvalidInput(f"--kubeconfig {kubeconfig!r}: no such file")
        try:
            self.api = config.new_client_from_config(config_file=kubeconfig)
        except config.ConfigException as err:
            raise InvalidInput(
                f"--kubeconfig: cannot load a kubeconfig ({err}); pass --kubeconfig or set "
                "CLUSTERFORGE_KUBECONFIG"
            ) from None
        self.api.configuration.retries = 1
        self.namespace = namespace
        self.server = str(self.api.configuration.host)
        self.core = client.CoreV1Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)

    def call(self, what: str, request: Callable[[], T]) -> T:
        try:
            return request()
        except urllib3.exceptions.HTTPError as err:
            raise OperationFailed(
                f"cannot reach the Kubernetes API server at {self.server} ({type(err).__name__}); "
                "check --kubeconfig and that the cluster is up (`clusterforge argo status`)"
            ) from None
        except ApiException as err:
            raise self._explain(what, err) from None

    def _explain(self, what: str, err: ApiException) -> Exception:
        body = str(err.body)
        if err.status == 404 and any(marker in body for marker in _NO_RESOURCE):
            return OperationFailed(
                f"the API server at {self.server} has no Argo Workflows CRDs "
                f"({GROUP}/{VERSION}); install them (`clusterforge argo up` or `argo install`)"
            )
        if err.status == 404:
            return NotFound(f"{what}: not found in namespace {self.namespace!r}")
        if err.status in (401, 403):
            return OperationFailed(
                f"{what}: the API server refused ({err.status} {err.reason}); the kubeconfig's "
                f"user needs RBAC on {GROUP} workflows in namespace {self.namespace!r}"
            )
        return OperationFailed(f"{what}: {err.status} {err.reason}: {str(err.body)[:300]}")

    # -- Argo's objects ------------------------------------------------------------

    def get(self, plural: str, name: str) -> dict[str, Any]:
        got: dict[str, Any] = self.call(
            f"{plural}/{name}",
            lambda: self.custom.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, name
            ),
        )
        return got

    def items(self, plural: str, selector: str | None = None) -> list[dict[str, Any]]:
        got = self.call(
            plural,
            lambda: self.custom.list_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, label_selector=selector or ""
            ),
        )
        return list(got.get("items") or [])

    def create(self, plural: str, body: dict[str, Any]) -> dict[str, Any]:
        got: dict[str, Any] = self.call(
            f"create {plural}",
            lambda: self.custom.create_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, body
            ),
        )
        return got

    def replace(self, plural: str, body: dict[str, Any]) -> dict[str, Any]:
        name = body["metadata"]["name"]
        got: dict[str, Any] = self.call(
            f"{plural}/{name}",
            lambda: self.custom.replace_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, name, body
            ),
        )
        return got

    def patch(self, plural: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        got: dict[str, Any] = self.call(
            f"{plural}/{name}",
            lambda: self.custom.patch_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, name, body
            ),
        )
        return got

    def delete(self, plural: str, name: str) -> None:
        self.call(
            f"{plural}/{name}",
            lambda: self.custom.delete_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, name
            ),
        )

    def apply_template(self, body: dict[str, Any]) -> None:
        """Create or replace a WorkflowTemplate (the snapshot a submission references)."""
        name = body["metadata"]["name"]
        body = {**body, "metadata": {"name": name, "namespace": self.namespace}}
        try:
            current = self.get("workflowtemplates", name)
        except NotFound:
            self.create("workflowtemplates", body)
            return
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        self.replace("workflowtemplates", body)

    # -- pods ----------------------------------------------------------------------

    def pods(self, workflow: str) -> list[dict[str, Any]]:
        listing = self.call(
            "pods",
            lambda: self.core.list_namespaced_pod(
                self.namespace, label_selector=f"workflows.argoproj.io/workflow={workflow}"
            ),
        )
        return [self.api.sanitize_for_serialization(pod) for pod in listing.items]

    def delete_pod(self, name: str, timeout: float = 60.0) -> None:
        """Delete a pod at once and wait until it is gone (a re-run step's pod may
        get the same name; the controller must not find the old one)."""
        with contextlib.suppress(NotFound):
            self.call(
                "pod",
                lambda: self.core.delete_namespaced_pod(
                    name, self.namespace, grace_period_seconds=0
                ),
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.call("pod", lambda: self.core.read_namespaced_pod(name, self.namespace))
            except NotFound:
                return
            time.sleep(0.2)
        raise OperationFailed(f"pod {name} was not deleted within {timeout:.0f}s")
