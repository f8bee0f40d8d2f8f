"""Running kwokctl against the pinned local binaries, and nothing else.

kwokctl can fetch every component itself, from container images or release
downloads; here it must not try. So every invocation gets ``--runtime binary``
(never docker), a KwokctlConfiguration naming each pinned binary as a local
path (kwokctl symlinks local paths into the cluster's ``bin`` directory
instead of downloading), the pinned kubectl first on PATH (kwokctl prefers
PATH's kubectl), and ``KWOK_WORKDIR`` set to clusterforge's data directory so
that the cluster lives in ``<data>/clusters/<name>/`` and nothing is written
to ``~/.kwok`` or the user's kubeconfig.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from clusterforge import paths
from clusterforge.tools import Toolchain

# Tool name in the manifest -> the KwokctlConfiguration option naming its binary.
_BINARY_OPTIONS = {
    "kube-apiserver": "kubeApiserverBinary",
    "kube-controller-manager": "kubeControllerManagerBinary",
    "kube-scheduler": "kubeSchedulerBinary",
    "kwok": "kwokControllerBinary",
    "etcd": "etcdBinary",
    "etcdctl": "etcdctlBinary",
    "kubectl": "kubectlBinary",
}


def clusters_dir() -> Path:
    """Where every local cluster's directory lives (kwokctl's ClustersDir)."""
    return paths.data_home() / "clusters"


def cluster_dir(name: str) -> Path:
    return clusters_dir() / name


@dataclass(frozen=True)
class KwokctlResult:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def summary(self, lines: int = 8) -> str:
        """The error lines of kwokctl's (JSON or text) log, most recent last."""
        picked: list[str] = []
        for raw in self.output.splitlines():
            try:
                entry = json.loads(raw)
            except ValueError:
                if raw.strip():
                    picked.append(raw.strip())
                continue
            if isinstance(entry, dict) and entry.get("level") in ("ERROR", "WARN"):
                detail = entry.get("err") or entry.get("error") or ""
                picked.append(f"{entry.get('msg', '')}: {detail}".rstrip(": "))
        return "\n".join(picked[-lines:]) or self.output.strip()[-2000:]


class Kwokctl:
    """kwokctl with the pinned toolchain; resolving it fails with the install fix."""

    def __init__(self, toolchain: Toolchain | None = None) -> None:
        self._toolchain = toolchain or Toolchain()
        self.kwokctl = self._toolchain.resolve("kwokctl")
        self.binaries = {name: self._toolchain.resolve(name) for name in _BINARY_OPTIONS}

    @property
    def kubectl(self) -> Path:
        return self.binaries["kubectl"]

    def configuration(
        self, *, api_port: int | None = None, apiserver_args: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """The KwokctlConfiguration for a new cluster: local binaries, loopback.

        ``apiserver_args`` become extra ``--key=value`` flags of kube-apiserver
        (kwokctl's ``componentsPatches``), e.g. an authentication webhook.
        """
        options: dict[str, Any] = {
            "runtime": "binary",
            "bindAddress": "127.0.0.1",
            "cacheDir": str(paths.cache_home() / "kwok"),
            "quietPull": True,
        }
        for tool, option in _BINARY_OPTIONS.items():
            options[option] = str(self.binaries[tool])
        if api_port is not None:
            options["kubeApiserverPort"] = api_port
        config: dict[str, Any] = {
            "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
            "kind": "KwokctlConfiguration",
            "options": options,
        }
        if apiserver_args:
            config["componentsPatches"] = [
                {
                    "name": "kube-apiserver",
                    "extraArgs": [{"key": k, "value": v} for k, v in apiserver_args.items()],
                }
            ]
        return config

    def run(self, *args: str, timeout: float = 300.0) -> KwokctlResult:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KWOK_")}
        env["KWOK_WORKDIR"] = str(paths.data_home())
        env["KWOK_KUBECTL_BINARY"] = str(self.kubectl)
        env["PATH"] = os.pathsep.join([str(self.kubectl.parent), env.get("PATH", "")])
        try:
            done = subprocess.run(
                [str(self.kwokctl), *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as err:
            output = (err.stdout or b"") + (err.stderr or b"")
            text = output.decode(errors="replace") if isinstance(output, bytes) else str(output)
            return KwokctlResult(124, text + f"\nkwokctl timed out after {timeout:.0f}s")
        return KwokctlResult(done.returncode, done.stdout + done.stderr)

    def create(self, name: str, config_file: Path, *, timeout: float) -> KwokctlResult:
        return self.run(
            "create",
            "cluster",
            "--name",
            name,
            "--runtime",
            "binary",
            "--config",
            str(config_file),
            "--kubeconfig",
            "",
            "--wait",
            f"{int(timeout)}s",
            "--timeout",
            f"{int(timeout)}s",
            timeout=timeout + 30,
        )

    def start(self, name: str, *, timeout: float) -> KwokctlResult:
        return self.run(
            "start",
            "cluster",
            "--name",
            name,
            "--timeout",
            f"{int(timeout)}s",
            timeout=timeout + 30,
        )

    def delete(self, name: str) -> KwokctlResult:
        # An empty --kubeconfig is refused by `delete`; the cluster's own
        # kubeconfig is about to be removed anyway.
        kubeconfig = cluster_dir(name) / "kubeconfig.yaml"
        return self.run("delete", "cluster", "--name", name, "--kubeconfig", str(kubeconfig))


def write_configuration(config: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
