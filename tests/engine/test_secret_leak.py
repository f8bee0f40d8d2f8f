"""A Secret a workflow reads never reaches the store, the engine's output or a view.

The workflow reads one Secret as an env variable (``secretKeyRef``), through
``envFrom`` and as a volume file, proves it saw the value by printing only its
SHA-256, and has one step fail on a missing key of the same Secret. Then every
byte the engine wrote — the state database (and its WAL), the run directory
(logs, outputs), the steps' scratch (the volume's files are gone), the CLI's
own output, ``get -o json`` (the node view the API
and UI serve) — is searched for the value, in plain and in base64.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "clusterforge.cli"]
VALUE = "Zq9-secret-value-7f3c"
WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: reads-a-secret}
spec:
  entrypoint: main
  volumes: [{name: creds, secret: {secretName: db-creds}}]
  templates:
  - name: main
    steps:
    - - {name: use, template: use}
      - {name: missing-key, template: missing-key}
  - name: use
    script:
      image: alpine
      command: [sh]
      env: [{name: PW, valueFrom: {secretKeyRef: {name: db-creds, key: password}}}]
      envFrom: [{secretRef: {name: db-creds}, prefix: FROM_}]
      volumeMounts: [{name: creds, mountPath: /mnt/cf-creds}]
      source: |
        printf %s "$PW" | sha256sum | cut -c1-64
        printf %s "$FROM_password" | sha256sum | cut -c1-64
        sha256sum < /mnt/cf-creds/password | cut -c1-64
  - name: missing-key
    container:
      image: alpine
      command: ["true"]
      env: [{name: X, valueFrom: {secretKeyRef: {name: db-creds, key: nope}}}]
"""
SECRET = f"""
apiVersion: v1
kind: Secret
metadata: {{name: db-creds}}
data: {{password: {base64.b64encode(VALUE.encode()).decode()}}}
"""


def test_a_secret_value_is_nowhere_the_engine_writes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    workflow, objects = tmp_path / "wf.yaml", tmp_path / "secret.yaml"
    workflow.write_text(WORKFLOW)
    objects.write_text(SECRET)
    scratch = tmp_path / "scratch"  # steps' scratch: where the volume's files were
    env = {
        "CLUSTERFORGE_HOME": str(home),
        "CLUSTERFORGE_SCRATCH": str(scratch),
        "PATH": "/usr/bin:/bin",
    }
    run = subprocess.run(
        [*CLI, "run", str(workflow), "--objects", str(objects), "--wait"],
        capture_output=True,
        env=env,
        timeout=180,
        check=False,
    )
    get = subprocess.run(
        [*CLI, "get", "reads-a-secret", "-o", "json"],
        capture_output=True,
        env=env,
        timeout=60,
        check=True,
    )
    logs = subprocess.run(
        [*CLI, "logs", "reads-a-secret"], capture_output=True, env=env, timeout=60, check=True
    )
    # the step saw the value three ways (only its hash is printed)
    digest = hashlib.sha256(VALUE.encode()).hexdigest()
    assert logs.stdout.decode().count(digest) == 3, logs.stdout
    assert b"couldn't find key nope in Secret default/db-creds" in get.stdout

    needles = [VALUE.encode(), base64.b64encode(VALUE.encode())]
    written = {"run": run.stdout + run.stderr, "get": get.stdout, "logs": logs.stdout}
    for path in [*home.rglob("*"), *scratch.rglob("*")]:
        if path.is_file():
            written[str(path)] = path.read_bytes()
    assert any(name.endswith("state.db") for name in written), sorted(written)
    leaks = [name for name, data in written.items() if any(n in data for n in needles)]
    assert leaks == []
