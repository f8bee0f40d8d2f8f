"""A real build over the API: a spec POSTed to ``clusterforge serve``, followed over
server-sent events to a validated kwok cluster, one stage re-run, the CLI reading
it remotely, and the teardown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.serve_process import start_serve, stop_serve

from .test_sse import _read_sse

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "clusterforge.cli"]
TOKEN = "remote-build-token-0123456789"


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, tool_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    home = tmp_path_factory.mktemp("remote-build") / "home"
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home), "CLUSTERFORGE_TOKENS": TOKEN}
    log = home.parent / "serve.stderr"
    server, url = start_serve(["--workers", "2", "--log-level", "warning"], env, log)
    try:
        yield url, env
    finally:
        stop_serve(server, log)


def _follow(client: httpx.Client, answer: dict[str, Any]) -> str:
    with client.stream("GET", answer["urls"]["events"], timeout=None) as response:
        messages = _read_sse(response)
    kind, _id, data = messages[-1]
    assert kind == "end"
    phase: str = data["phase"]
    return phase


def test_a_build_over_http_end_to_end(served: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, env = served
    spec = yaml.safe_load((ROOT / "examples" / "dev-cluster.yaml").read_text())
    spec["metadata"]["name"] = "api-e2e"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        answer = client.post("/api/v1/builds", json=spec).json()
        assert answer["cluster"] == "api-e2e"
        assert _follow(client, answer) == "Succeeded", client.get(answer["urls"]["logs"]).text[
            -3000:
        ]
        [fleet] = [c for c in client.get("/api/v1/clusters").json() if c["name"] == "api-e2e"]
        assert fleet["last_validation_result"] == "Succeeded"

        again = client.post(
            "/api/v1/clusters/api-e2e/stages/validation", json={"spec": {"validation": {}}}
        ).json()
        assert again["stage"] == "validation"
        assert _follow(client, again) == "Succeeded"

        remote = subprocess.run(
            [*CLI, "get", again["id"], "-o", "json"],
            env={**env, "CLUSTERFORGE_SERVER": url, "CLUSTERFORGE_TOKEN": TOKEN,
                 "CLUSTERFORGE_HOME": str(tmp_path / "nothing-local")},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert remote.returncode == 0, remote.stderr
        assert json.loads(remote.stdout)["status"]["phase"] == "Succeeded"

        # The pipeline commands drive the server the same way: a stage and the fleet.
        remote_env = {**env, "CLUSTERFORGE_SERVER": url, "CLUSTERFORGE_TOKEN": TOKEN,
                      "CLUSTERFORGE_HOME": str(tmp_path / "nothing-local")}  # fmt: skip
        spec_file = tmp_path / "api-e2e.yaml"
        spec_file.write_text(yaml.safe_dump(spec))
        staged = subprocess.run(
            [*CLI, "stage", "addons", str(spec_file)], env=remote_env,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert staged.returncode == 0, staged.stdout[-2000:] + staged.stderr[-2000:]
        assert "Succeeded" in staged.stdout
        fleet_cli = subprocess.run(
            [*CLI, "clusters"], env=remote_env, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert "api-e2e" in fleet_cli.stdout
        assert not (tmp_path / "nothing-local" / "state.db").exists()  # nothing ran locally

        down = client.delete("/api/v1/clusters/api-e2e").json()
        assert down["stage"] == "destroy"
        assert _follow(client, down) == "Succeeded"
