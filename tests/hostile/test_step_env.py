"""Steps see clusterforge and the pinned tools, not clusterforge's interpreter or pip.

A step's PATH starts with a directory holding only the ``clusterforge`` entry
point; the engine's virtualenv ``bin`` is gone from it and ``VIRTUAL_ENV`` is
not passed on. A step that runs ``pip install`` reaches the machine's Python
(here with a user base inside the step), never the engine's environment.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

from .conftest import Sandbox

PROBE = "cf_hostile_probe"

WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: step-env}}
spec:
  entrypoint: main
  templates:
  - name: main
    script:
      image: python
      command: [sh]
      source: |
        set -u
        echo "first=$(echo "$PATH" | cut -d: -f1)"
        echo "bin=$(ls -A "$(echo "$PATH" | cut -d: -f1)" | tr '\\n' ' ')"
        echo "venv=${{VIRTUAL_ENV:-unset}}"
        echo "clusterforge=$(command -v clusterforge)"
        echo "python3=$(command -v python3 || echo none)"
        echo "pip=$(command -v pip || echo none)"
        clusterforge --help >/dev/null && echo "cf-runs=yes"
        export HOME="$PWD" PYTHONUSERBASE="$PWD/userbase"
        if python3 -m pip --version >/dev/null 2>&1; then
          python3 -m pip install --user --no-index --no-deps --break-system-packages \\
            {wheel} >/dev/null 2>&1 || python3 -m pip install --user --no-index --no-deps \\
            {wheel} >/dev/null 2>&1
          echo "pip-install-rc=$?"
        else
          echo "pip-install-rc=no-pip"
        fi
"""


def _wheel(directory: Path) -> Path:
    """A minimal wheel of one module, built by hand (no network, no build backend)."""
    path = directory / f"{PROBE}-0.1-py3-none-any.whl"
    info = f"{PROBE}-0.1.dist-info"
    files = {
        f"{PROBE}.py": "VALUE = 1\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {PROBE}\nVersion: 0.1\n",
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr(f"{info}/RECORD", record)
    return path


def _engine_has_probe() -> bool:
    prefix = Path(sys.prefix)
    return any(prefix.glob(f"lib/python*/site-packages/{PROBE}*"))


def test_steps_get_only_clusterforge_and_tools(sandbox: Sandbox) -> None:
    assert not _engine_has_probe()
    wheel = _wheel(sandbox.home)
    wf = sandbox.home / "wf.yaml"
    wf.write_text(WORKFLOW.format(wheel=wheel))
    done = sandbox.cli("run", str(wf), "--wait", "-o", "json", timeout=180)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert json.loads(done.stdout)["status"]["phase"] == "Succeeded"
    logs = sandbox.cli("logs", "step-env")
    assert "first=" in logs.stdout, (logs.stdout, logs.stderr)
    lines = [line.partition(": ")[2] for line in logs.stdout.splitlines()]
    seen = dict(line.split("=", 1) for line in lines if "=" in line)
    engine_bin = str(Path(sys.executable).parent)
    assert seen["bin"].split() == ["clusterforge"]
    assert seen["venv"] == "unset"
    assert seen["clusterforge"] == f"{seen['first']}/clusterforge"
    assert seen["cf-runs"] == "yes"
    assert not seen["python3"].startswith(engine_bin)
    assert not seen["pip"].startswith(engine_bin)
    assert seen["pip-install-rc"] in ("0", "no-pip")
    assert not _engine_has_probe()
