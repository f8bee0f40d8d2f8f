"""Volumes on the local engine beyond the conformance cases: a claim's directory
is removed as volumeClaimGC says (kept after a failure, for a retry), an
existing claim outlives workflows, mountPaths that would shadow system
directories are refused, and without a mount namespace a step that mounts a
volume ends in Error saying why and what to do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.local import process
from clusterforge.workflow import mount_path_problem

needs_namespace = pytest.mark.skipif(
    not process.isolation().private_tmp, reason="steps get no mount namespace here"
)

CLAIM = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
  {gc}
  volumeClaimTemplates:
  - metadata: {{name: work}}
    spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Mi}}}}}}
  volumes:
  - name: kept
    persistentVolumeClaim: {{claimName: cf-test-kept}}
  templates:
  - name: main
    container:
      image: alpine
      command: [sh, -c, 'echo x > /mnt/cf-work/f; echo run >> /mnt/cf-kept/log; exit {code}']
      volumeMounts:
      - {{name: work, mountPath: /mnt/cf-work}}
      - {{name: kept, mountPath: /mnt/cf-kept}}
"""


def _run(engine: LocalEngine, name: str, code: int, gc: str = "") -> Path:
    view = engine.submit(Submission(text=CLAIM.format(name=name, code=code, gc=gc)))
    engine.join(view.id, timeout=120)
    assert engine.get(view.id).phase == ("Succeeded" if code == 0 else "Failed")
    return engine.home / "runs" / view.id / ".volumes" / "work"


@needs_namespace
def test_claims_follow_volume_claim_gc_and_existing_claims_persist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(home))
    engine = LocalEngine(home=home)
    assert not _run(engine, "claim-ok", 0).exists()  # OnWorkflowSuccess: gone
    failed = _run(engine, "claim-failed", 3)
    assert (failed / "f").read_text() == "x\n"  # kept for a retry, as Argo keeps the PVC
    always = "volumeClaimGC: {strategy: OnWorkflowCompletion}"
    assert not _run(engine, "claim-always", 3, always).exists()
    assert (home / "volumes" / "cf-test-kept" / "log").read_text() == "run\n" * 3


@pytest.mark.parametrize(
    ("path", "shadowed"),
    [("/", "/"), ("/usr", "/usr"), ("/usr/", "/usr"), ("/etc", "/etc"), ("/proc/1", "/proc")],
)
def test_system_directories_are_refused(path: str, shadowed: str) -> None:
    problem = mount_path_problem(path)
    assert problem is not None
    assert f"system directory {shadowed} " in problem


def test_other_mount_paths() -> None:
    assert mount_path_problem("/mnt/vol") is None
    assert mount_path_problem("/usr/local/data") is None  # hides only itself
    assert "private /tmp" in (mount_path_problem("/tmp") or "")
    assert "not absolute" in (mount_path_problem("data") or "")
    assert "'..'" in (mount_path_problem("/mnt/../usr") or "")


def test_without_a_mount_namespace_volumes_end_in_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    off = process.Isolation(False, "CLUSTERFORGE_ISOLATION=none")
    monkeypatch.setattr(process, "isolation", lambda: off)
    attempt = tmp_path / "attempt"
    step = process.StepProcess(
        argv=["true"],
        env={"PATH": os.environ["PATH"]},
        cwd=str(attempt),
        tmp_dir=str(attempt / "tmp"),
        stdout=str(attempt / "out"),
        stderr=str(attempt / "err"),
        make_dirs=(str(attempt), str(attempt / "tmp")),
        volumes=(process.Mount(str(tmp_path), "/mnt/cf-vol"),),
    )
    with pytest.raises(process.StartError) as caught:
        process.launch_sync(step)
    assert "volumeMounts (/mnt/cf-vol) need a private mount namespace" in str(caught.value)
    assert "run clusterforge as root" in str(caught.value)
