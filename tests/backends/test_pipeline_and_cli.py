"""The pipeline and the CLI over each backend (nothing here starts a cluster).

The pipeline plans the stage library and keeps its build records through the
engine alone; the CLI's workflow commands, pointed at a backend by
``CLUSTERFORGE_ENGINE``, run, show, retry and stop workflows the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from clusterforge.spec import load_spec
from clusterforge.stages import Pipeline
from tests.backends.conftest import Backend
from tests.backends.test_engine_surface import GATED

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _cf(backend: Backend, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clusterforge.cli", *args],
        env=backend.env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_pipeline_plans_through_the_engine(backend: Backend) -> None:
    pipeline = Pipeline(backend.engine)
    planned = pipeline.plan(load_spec(EXAMPLES / "dev-cluster.yaml"))
    names = [item.display_name for _depth, item in planned.walk()]
    for stage in ("preflight", "core", "addons", "validation", "cert-manager"):
        assert stage in names, names
    assert any(item.decision == "skip" for _depth, item in planned.walk())
    assert backend.engine.list() == [], "planning stored a workflow"
    assert pipeline.clusters() == []


def test_cli_run_get_logs_retry(backend: Backend, tmp_path: Path) -> None:
    runs, gate = tmp_path / "runs", tmp_path / "gate"
    wf = tmp_path / "wf.yaml"
    wf.write_text(GATED.format(name="cli-one", runs=runs, gate=gate))

    failed = _cf(backend, "run", str(wf), "--wait", "-o", "json")
    assert failed.returncode == 1, failed.stderr
    assert json.loads(failed.stdout)["status"]["phase"] == "Failed"
    assert "gate closed" in _cf(backend, "logs", "cli-one", "gated").stdout
    gate.write_text("open")
    retried = _cf(backend, "retry", "cli-one", "--wait", "-o", "json")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["status"]["phase"] == "Succeeded"
    assert _cf(backend, "list", "-o", "name").stdout.split() == ["cli-one"]
    # the CLI's workflows are the engine's
    assert backend.engine.get("cli-one").phase == "Succeeded"


def test_cli_names_an_unknown_engine(backend: Backend) -> None:
    result = _cf(backend, "list", "--engine", "nomad")
    assert result.returncode != 0
    assert "engine 'nomad' is not one of" in result.stderr
    assert "Traceback" not in result.stderr
