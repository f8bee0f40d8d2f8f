"""Volumes on the local engine beyond the conformance cases: a claim's directory
is removed as volumeClaimGC says (kept after a failure, for a retry), an
existing claim outlives workflows, mountPaths that would shadow system
directories are refused, a mount point the host lacks is made in the step's
private root and never on the host, and without a mount namespace a step that
mounts a volume ends in Error saying why and what to do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.local import process
from clusterforge.engine.local.private_root import mount_points, plan
from clusterforge.engine.local.volumes import VolumeError, WorkflowVolumes
from clusterforge.store import NodeRecord
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


MISSING = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: missing-mount-points}
spec:
  entrypoint: main
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: settings, configMap: {name: cf-probe-settings}}
  - {name: creds, secret: {secretName: cf-probe-creds}}
  templates:
  - name: main
    container:
      image: alpine
      command: [sh, -c]
      args:
      - >-
        echo hi > /cf-vol-probe/empty/f && cat /cf-vol-probe/empty/f /mnt/cf-cm-probe/greeting
        /cf-secret-probe/deep/password && ls /cf-secret-probe && test -d /etc
      volumeMounts:
      - {name: scratch, mountPath: /cf-vol-probe/empty}
      - {name: settings, mountPath: /mnt/cf-cm-probe}
      - {name: creds, mountPath: /cf-secret-probe/deep}
"""
OBJECTS = """
kind: ConfigMap
metadata: {name: cf-probe-settings}
data: {greeting: hello}
---
kind: Secret
metadata: {name: cf-probe-creds}
stringData: {password: pw}
"""
PROBES = ("/cf-vol-probe", "/mnt/cf-cm-probe", "/cf-secret-probe")


def _run_missing(tmp_path: Path) -> tuple[LocalEngine, str, NodeRecord]:
    assert not any(os.path.lexists(p) for p in PROBES)  # else this host is not a probe
    (tmp_path / "wf.yaml").write_text(MISSING)
    (tmp_path / "objects.yaml").write_text(OBJECTS)
    engine = LocalEngine(home=tmp_path / "home")
    view = engine.submit(
        Submission(files=(tmp_path / "wf.yaml",), objects=(str(tmp_path / "objects.yaml"),))
    )
    engine.join(view.id, timeout=120)
    node = next(n for n in engine.get(view.id).nodes.values() if n.type == "Pod")
    return engine, view.id, node


@needs_namespace
def test_missing_mount_points_are_made_privately_never_on_the_host(tmp_path: Path) -> None:
    engine, wf, node = _run_missing(tmp_path)
    assert node.phase == "Succeeded", node.message
    lines = [line.text for line in engine.logs(wf, node.id) if line.stream == "stdout"]
    assert lines == ["hi", "hellopwdeep"]  # the files end without a newline
    assert [p for p in PROBES if os.path.lexists(p)] == []


def test_without_a_mount_namespace_a_missing_mount_point_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    off = process.Isolation(False, "CLUSTERFORGE_ISOLATION=none")
    monkeypatch.setattr(process, "isolation", lambda: off)
    _, _, node = _run_missing(tmp_path)
    assert node.phase == "Error"
    assert node.message.startswith("volumeMounts[0].mountPath /cf-vol-probe/empty: ")
    assert "needs a private mount namespace" in node.message
    assert "(CLUSTERFORGE_ISOLATION=none)" in node.message
    assert [p for p in PROBES if os.path.lexists(p)] == []


def test_a_mount_point_is_planned_where_the_host_symlinks_lead(tmp_path: Path) -> None:
    if not os.path.islink("/bin"):
        pytest.skip("/bin is not a symlink here")
    volumes = WorkflowVolumes.of({"volumes": [{"name": "v", "emptyDir": {}}]}, tmp_path, "")
    body = {"volumeMounts": [{"name": "v", "mountPath": "/bin/cf-vol-probe"}]}
    (mount,) = volumes.mounts(body, [], "a")
    assert mount.target == os.path.realpath("/bin") + "/cf-vol-probe"
    root = plan(str(tmp_path / "root"), mount_points([mount.target]), {})
    assert root is not None  # the kernel would follow /bin; the root is made where it leads
    assert root.host(mount.target) == tmp_path / "root" / mount.target.lstrip("/")


IN_VOLUME = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: in-volume}
spec:
  entrypoint: main
  volumeClaimTemplates:
  - metadata: {name: shared}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Mi}}}
  templates:
  - name: main
    steps:
    - - {name: write, template: write}
    - - name: read
        template: read
        arguments:
          artifacts: [{name: in, from: "{{steps.write.outputs.artifacts.out}}"}]
  - name: write
    container:
      image: alpine
      command: [sh, -c, 'mkdir -p /mnt/cf-shared/a && echo made > /mnt/cf-shared/a/out
        && echo said > /tmp/cf-scratch/said']
      volumeMounts:
      - {name: shared, mountPath: /mnt/cf-shared}
      - {name: scratch, mountPath: /tmp/cf-scratch}
    volumes:
    - {name: scratch, emptyDir: {}}
    outputs:
      artifacts: [{name: out, path: /mnt/cf-shared/a/out, archive: {none: {}}}]
      parameters: [{name: said, valueFrom: {path: /tmp/cf-scratch/said}}]
  - name: read
    inputs:
      artifacts: [{name: in, path: /mnt/cf-empty/in}]
    container:
      image: alpine
      command: [sh, -c, 'cat /mnt/cf-empty/in']
      volumeMounts:
      - {name: empty, mountPath: /mnt/cf-empty}
    volumes:
    - {name: empty, emptyDir: {}}
"""


@needs_namespace
def test_artifacts_and_parameters_under_a_volume_mount_are_in_the_volume(tmp_path: Path) -> None:
    # As Argo's executor (FindOverlappingVolume): a path under a volume's mount is
    # saved from, and loaded into, the volume the step sees there.
    engine = LocalEngine(home=tmp_path / "home")
    view = engine.submit(Submission(text=IN_VOLUME))
    engine.join(view.id, timeout=60)
    view = engine.get(view.id)
    pods = {n.display_name: n for n in view.nodes.values() if n.type == "Pod"}
    assert view.phase == "Succeeded", {k: n.message for k, n in pods.items()}
    said = {p["name"]: p["value"] for p in pods["write"].outputs.get("parameters", [])}
    assert said == {"said": "said"}
    assert pods["read"].outputs.get("result") == "made"
    for probe in ("/mnt/cf-shared", "/mnt/cf-empty"):
        assert not os.path.lexists(probe)


def test_a_sub_path_mounts_what_the_volume_has_there_as_the_kubelet(tmp_path: Path) -> None:
    # makeMounts: an existing file or directory is mounted as it is, a missing one
    # is made as an empty directory, and a symlink out of the volume is refused.
    host = tmp_path / "host"
    (host / "dir").mkdir(parents=True)
    (host / "file.yaml").write_text("a: 1\n")
    (host / "out").symlink_to(tmp_path)
    volumes = WorkflowVolumes.of(
        {"volumes": [{"name": "h", "hostPath": {"path": str(host)}}]}, tmp_path, ""
    )

    def source(sub: str) -> str:
        body = {"volumeMounts": [{"name": "h", "mountPath": "/mnt/cf-x", "subPath": sub}]}
        (mount,) = volumes.mounts(body, [], "a")
        return mount.source

    assert source("file.yaml") == str(host / "file.yaml")
    assert Path(source("file.yaml")).is_file()  # a file stays a file: mounted as one
    assert source("dir/") == str(host / "dir")
    assert source("./") == str(host)
    assert Path(source("new/deeper")).is_dir()
    with pytest.raises(VolumeError, match="'h': subPath 'out/x' leads out of the volume"):
        source("out/x")
    with pytest.raises(VolumeError, match=r"subPath '\.\./x' must be relative"):
        source("../x")
    assert not (tmp_path / "x").exists()


def test_a_sub_path_expr_reads_the_container_env_as_the_kubelet(tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    volumes = WorkflowVolumes.of(
        {"volumes": [{"name": "h", "hostPath": {"path": str(host)}}]}, tmp_path, ""
    )

    def source(mount: dict[str, str], env: dict[str, str]) -> str:
        body = {"volumeMounts": [{"name": "h", "mountPath": "/mnt/cf-x", **mount}]}
        (found,) = volumes.mounts(body, [], "a", None, env)
        return found.source

    assert source({"subPathExpr": "$(POD)/logs"}, {"POD": "p1"}) == str(host / "p1" / "logs")
    assert source({"subPathExpr": "$$(POD)"}, {"POD": "p1"}) == str(host / "$(POD)")
    with pytest.raises(VolumeError, match="subPathExpr: missing value for A, B"):
        source({"subPathExpr": "$(B)/$(A)/$(C)"}, {"C": "c", "A": ""})
    with pytest.raises(VolumeError, match="'h': subPathExpr and subPath are mutually exclusive"):
        source({"subPathExpr": "$(C)", "subPath": "x"}, {"C": "c"})
    with pytest.raises(VolumeError, match="must be relative"):
        source({"subPathExpr": "/$(C)"}, {"C": "c"})
