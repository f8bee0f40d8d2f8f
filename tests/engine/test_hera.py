"""Workflows written with Hera (Argo's Python SDK) run on the local engine.

The workflow is built with Hera itself: ``@script`` functions in a module,
some through Hera's script runner (``source: '{{inputs.parameters}}'`` with
``python -m hera.workflows.runner -e module:function``, outputs written under
``/tmp/hera-outputs``), some inline, wired into a DAG. Steps see the machine's
Python, not clusterforge's virtualenv, so the test makes the Python a Hera user
would have: a virtualenv where Hera and the workflow's module are importable,
first on PATH. Its files live outside /tmp, which each step sees privately.
"""

from __future__ import annotations

import importlib
import os
import shutil
import site
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from clusterforge.engine import LocalEngine, Submission

MODULE = """\
from typing import Annotated

from hera.workflows import DAG, Parameter, Workflow, script


@script(constructor="runner")
def add(a: int, b: int) -> int:
    return a + b


@script(constructor="runner")
def hello() -> None:
    print("hello from hera")


@script(constructor="runner")
def halve(x: int) -> Annotated[int, Parameter(name="half")]:
    return x // 2


@script()
def shout(text: str) -> None:
    print(f"{text}!")  # Hera reads the input as JSON: "3" is the number 3


def build() -> Workflow:
    with Workflow(generate_name="hera-local-", entrypoint="main") as w:
        with DAG(name="main"):
            total = add(arguments={"a": 3, "b": 4})
            greet = hello()
            half = halve(arguments={"x": total.result})
            loud = shout(arguments={"text": half.get_parameter("half")})
            total >> half >> loud
            greet >> loud
    return w
"""


@pytest.fixture
def hera_python(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A Python where Hera and the workflow module import, first on the steps' PATH."""
    base = Path.home() / ".cache" / "clusterforge-tests"
    base.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="hera-", dir=base))
    try:
        (root / "src").mkdir()
        (root / "src" / "heraflow.py").write_text(MODULE)
        python = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([python, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
        venv_python = root / "venv" / "bin" / "python"
        venv_site = subprocess.run(
            [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        hera_site = Path(importlib.import_module("hera").__file__ or "").parents[1]
        lines = [str(hera_site), *site.getsitepackages(), str(root / "src")]
        (Path(venv_site) / "hera-test.pth").write_text("\n".join(lines) + "\n")
        monkeypatch.setenv("PATH", f"{root / 'venv' / 'bin'}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.syspath_prepend(str(root / "src"))
        yield root
    finally:
        sys.modules.pop("heraflow", None)
        shutil.rmtree(root, ignore_errors=True)


def test_a_hera_built_dag_of_runner_and_inline_scripts_runs(
    hera_python: Path, tmp_path: Path
) -> None:
    heraflow = importlib.import_module("heraflow")
    manifest = tmp_path / "hera.yaml"
    manifest.write_text(yaml.safe_dump(heraflow.build().to_dict()))
    engine = LocalEngine(home=tmp_path / "home")
    view = engine.submit(Submission(files=(manifest,)))
    engine.join(view.id, timeout=120)
    view = engine.get(view.id)
    nodes = {n.display_name: n for n in view.nodes.values()}
    failures = {k: n.message for k, n in nodes.items() if n.phase != "Succeeded"}
    assert view.phase == "Succeeded", failures
    assert nodes["add"].outputs["result"] == "7"
    assert nodes["hello"].outputs["result"] == "hello from hera"
    (half,) = nodes["halve"].outputs["parameters"]
    assert (half["name"], half["value"]) == ("half", "3")
    assert nodes["shout"].outputs["result"] == "3!"
    # the runner read its inputs from the staged source: {{inputs.parameters}} as JSON
    template = next(
        t for t in heraflow.build().to_dict()["spec"]["templates"] if t["name"] == "hello"
    )
    assert template["script"]["source"] == "{{inputs.parameters}}"
    assert "inputs" not in template
