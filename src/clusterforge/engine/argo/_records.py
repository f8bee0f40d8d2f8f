"""Callers' records for the Argo backend, kept in the cluster next to the workflows.

One ConfigMap per scope (``clusterforge-records-<scope>``), one data key per
record key (hex-encoded, since ConfigMap keys allow only ``[-._a-zA-Z0-9]``),
the value as JSON. ``kv_create`` and ``kv_put`` write with the ConfigMap's
``resourceVersion``, so two writers never lose each other's records.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import re
from typing import Any

from kubernetes.client.rest import ApiException  # type: ignore[import-untyped]

from clusterforge.engine.argo._kube import Kube
from clusterforge.errors import NotFound, OperationFailed

_ATTEMPTS = 10


class ConfigMapRecords:
    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def _name(self, scope: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", scope.lower()).strip("-")[:30]
        digest = hashlib.sha256(scope.encode()).hexdigest()[:8]
        return f"clusterforge-records-{slug}-{digest}"

    def _read(self, scope: str) -> dict[str, Any] | None:
        name = self._name(scope)
        try:
            got = self.kube.call(
                f"configmap {name}",
                lambda: self.kube.core.read_namespaced_config_map(name, self.kube.namespace),
            )
        except NotFound:
            return None
        return dict(self.kube.api.sanitize_for_serialization(got))

    def kv_get(self, scope: str, key: str) -> Any:
        data = ((self._read(scope) or {}).get("data")) or {}
        raw = data.get(key.encode().hex())
        return None if raw is None else json.loads(raw)

    def kv_items(self, scope: str) -> builtins.list[tuple[str, Any]]:
        data = ((self._read(scope) or {}).get("data")) or {}
        return sorted((bytes.fromhex(k).decode(), json.loads(v)) for k, v in data.items())

    def kv_put(self, scope: str, key: str, value: Any) -> None:
        self._update(scope, key, value, only_new=False)

    def kv_create(self, scope: str, key: str, value: Any) -> bool:
        return self._update(scope, key, value, only_new=True)

    def kv_delete(self, scope: str, key: str) -> None:
        self._update(scope, key, None, only_new=False)

    def _update(self, scope: str, key: str, value: Any, *, only_new: bool) -> bool:
        name, field = self._name(scope), key.encode().hex()
        for _ in range(_ATTEMPTS):
            current = self._read(scope)
            data = dict((current or {}).get("data") or {})
            if only_new and field in data:
                return False
            if value is None:
                data.pop(field, None)
            else:
                data[field] = json.dumps(value)
            body: dict[str, Any] = {"metadata": {"name": name}, "data": data}
            try:
                if current is None:
                    self.kube.core.create_namespaced_config_map(self.kube.namespace, body)
                else:
                    body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
                    self.kube.core.replace_namespaced_config_map(name, self.kube.namespace, body)
            except ApiException as err:
                if err.status == 409:
                    continue
                raise OperationFailed(f"configmap {name}: {err.status} {err.reason}") from None
            return True
        raise OperationFailed(f"configmap {name}: too many concurrent writers; try again")
