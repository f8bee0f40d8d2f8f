"""Artifact passing between two steps of a real workflow, against a ``tar | cp`` floor.

What runs: a two-step workflow through the local engine (``LocalEngine``, the
engine ``clusterforge run`` uses). Step 1 copies the data set into its
private ``/tmp/data`` and declares it an output artifact; step 2 takes it as
an input artifact at ``/tmp/data`` and reads it (``du -sb``). Data sets: one
file of random (incompressible) bytes — 1 GiB, and 100 MiB to show whether
memory grows with the size — and a directory of 10,000 files of 1 KiB.
Archives: Argo's default (tar+gzip, level 6), ``tar: {compressionLevel: 0}``
and ``none``. Repositories: the embedded local one and S3 (SeaweedFS on
loopback, ``weed`` from the toolchain).

What is timed, and why this way: the artifact work only — step 1's output
being saved (``PodArtifacts.collect``, run after its process ends) plus step
2's input being loaded (``PodArtifacts.stage``, run before its process
starts). These are the engine's two artifact hooks; the bench wraps them with
a clock in the engine's own process and changes nothing else. Writing the
data in step 1 is not the artifact's cost, so it is not in the number. As a
cross-check the whole workflow's wall time is printed next to the same
workflow without artifacts (same step 1; step 2 ``du``s its empty ``/tmp``):
their difference is the artifact cost plus noise from everything else.

The floor, measured in the same run on the same data, from and to the same
filesystems (the step scratch root — ``/dev/shm`` by default — for the data,
the engine home's disk for the repository): gzip → ``tar -cz | cp`` into the
repository directory, then ``tar -xz`` out of it; tar → ``tar -c | cp`` and
``tar -x``; none → ``cp -r`` in and out. For S3 the same ``tar`` processes
stream through boto3 — ``upload_fileobj`` of tar's stdout and
``download_fileobj`` into ``tar -x``'s stdin, boto3's default transfer
settings (8 MiB parts, 10 threads), which is what ``aws s3 cp - s3://…``
does; ``none`` uploads and downloads each file with ``upload_file`` /
``download_file`` on 10 threads, as ``aws s3 cp --recursive``. Every process
(engine or floor) runs in a fresh interpreter; peak RSS is the engine
process's VmHWM (the steps' processes are not in it), the floor's is the
largest of its pipeline's processes.

Usage: ``python bench/artifacts.py [--quick] [--no-s3] [--archives gzip,tar,none]``.
``--quick`` (for ``make bench`` smoke): 64 MiB and 16 MiB files, 1,000 files.
Writes ``bench/results/artifacts.json``. Goal (issue 16): within 1.5x of the
floor, RSS independent of the file size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
MIB = 1 << 20
ARCHIVES = {"gzip": None, "tar": {"tar": {"compressionLevel": 0}}, "none": {"none": {}}}


@dataclass(frozen=True)
class DataSet:
    name: str
    path: Path  # a file, or a directory of files


@dataclass(frozen=True)
class S3Target:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str


# -- data ---------------------------------------------------------------------------


def _make_file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        left = size
        while left:
            chunk = os.urandom(min(left, 8 * MIB))
            out.write(chunk)
            left -= len(chunk)


def _make_tree(root: Path, count: int) -> None:
    for index in range(count):
        directory = root / f"d{index // 100:03d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{index:05d}.txt").write_bytes(os.urandom(1024))


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children_peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


# -- the engine's side (child process) ------------------------------------------------


def workflow_yaml(source: Path, archive: str | None) -> str:
    """Step 1 copies ``source`` to /tmp/data; step 2 reads it. ``archive=None``: no artifacts."""
    write: dict[str, Any] = {
        "name": "write",
        "container": {"image": "alpine", "command": ["cp", "-r", str(source), "/tmp/data"]},
    }
    read: dict[str, Any] = {
        "name": "read",
        "container": {"image": "alpine", "command": ["du", "-sb", "/tmp"]},
    }
    call: dict[str, Any] = {"name": "read", "template": "read"}
    if archive is not None:
        output: dict[str, Any] = {"name": "data", "path": "/tmp/data"}
        if ARCHIVES[archive] is not None:
            output["archive"] = ARCHIVES[archive]
        write["outputs"] = {"artifacts": [output]}
        read["inputs"] = {"artifacts": [{"name": "data", "path": "/tmp/data"}]}
        read["container"]["command"][-1] = "/tmp/data"
        source_ref = "{{steps.write.outputs.artifacts.data}}"
        call["arguments"] = {"artifacts": [{"name": "data", "from": source_ref}]}
    main = {"name": "main", "steps": [[{"name": "write", "template": "write"}], [call]]}
    return json.dumps(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"generateName": "artbench-"},
            "spec": {"entrypoint": "main", "templates": [main, write, read]},
        }
    )


def _timed_hooks() -> dict[str, float]:
    """Wrap the engine's two artifact hooks with a clock; nothing else changes."""
    from clusterforge.engine.local._operator.artifacts import PodArtifacts

    spent = {"save": 0.0, "load": 0.0}

    def clocked(name: str, hook: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return hook(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started

        return run

    PodArtifacts.collect = clocked("save", PodArtifacts.collect)  # type: ignore[method-assign]
    PodArtifacts.stage = clocked("load", PodArtifacts.stage)  # type: ignore[method-assign]
    return spent


def engine_case(source: Path, archive: str | None, home: Path) -> dict[str, Any]:
    """Child mode: run the workflow once in this fresh interpreter."""
    os.environ["CLUSTERFORGE_HOME"] = str(home)  # no user's artifact-repositories.yaml
    from clusterforge.engine import LocalEngine, Submission

    spent = _timed_hooks()
    engine = LocalEngine(home=home)
    record = engine.prepare(Submission(text=workflow_yaml(source, archive)))
    engine.store.create_workflow(record)
    started = time.perf_counter()
    view = engine.run_blocking(record.id)
    wall = time.perf_counter() - started
    return {
        "phase": view.phase,
        "wall": wall,
        "save": spent["save"],
        "load": spent["load"],
        "seconds": spent["save"] + spent["load"],
        "rss_mib": _peak_rss_mib(),
    }


# -- the floor's side (child process) ---------------------------------------------------


def _pipe(producer: list[str], consumer: list[str]) -> None:
    """``producer | consumer`` with argument lists (no shell); both must succeed."""
    first = subprocess.Popen(producer, stdout=subprocess.PIPE)
    second = subprocess.Popen(consumer, stdin=first.stdout)
    assert first.stdout is not None
    first.stdout.close()
    if second.wait() or first.wait():
        raise SystemExit(f"floor failed: {producer} | {consumer}")


def floor_local(source: Path, archive: str, store: Path, dest: Path) -> None:
    obj = store / "floor.obj"
    dest.mkdir(parents=True)
    if archive == "none":
        subprocess.run(["cp", "-r", str(source), str(obj)], check=True)
        subprocess.run(["cp", "-r", str(obj), str(dest / source.name)], check=True)
        return
    z = ["-z"] if archive == "gzip" else []
    _pipe(
        ["tar", *z, "-C", str(source.parent), "-cf", "-", source.name],
        ["cp", "/dev/stdin", str(obj)],
    )
    subprocess.run(["tar", *z, "-C", str(dest), "-xf", str(obj)], check=True)


def _s3_client(target: S3Target) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=f"http://{target.endpoint}",
        aws_access_key_id=target.access_key,
        aws_secret_access_key=target.secret_key,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=10),
    )


def floor_s3(source: Path, archive: str, target: S3Target, dest: Path) -> None:
    client, bucket = _s3_client(target), target.bucket
    dest.mkdir(parents=True)
    if archive == "none":
        _floor_s3_files(client, bucket, source, dest)
        return
    z = ["-z"] if archive == "gzip" else []
    pack = subprocess.Popen(
        ["tar", *z, "-C", str(source.parent), "-cf", "-", source.name], stdout=subprocess.PIPE
    )
    client.upload_fileobj(pack.stdout, bucket, "floor/obj")
    if pack.wait():
        raise SystemExit("floor: tar -c failed")
    unpack = subprocess.Popen(["tar", *z, "-C", str(dest), "-xf", "-"], stdin=subprocess.PIPE)
    client.download_fileobj(bucket, "floor/obj", unpack.stdin)
    assert unpack.stdin is not None
    unpack.stdin.close()
    if unpack.wait():
        raise SystemExit("floor: tar -x failed")
    client.delete_object(Bucket=bucket, Key="floor/obj")


def _floor_s3_files(client: Any, bucket: str, source: Path, dest: Path) -> None:
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    base = source.parent

    def key(path: Path) -> str:
        return "floor/" + path.relative_to(base).as_posix()

    def download(path: Path) -> None:
        target = dest / path.relative_to(base)
        target.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(bucket, key(path), str(target))

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda p: client.upload_file(str(p), bucket, key(p)), files))
        list(pool.map(download, files))
        list(pool.map(lambda p: client.delete_object(Bucket=bucket, Key=key(p)), files))


# -- the parent: data, children, table ----------------------------------------------------


def _child(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    # Dirty pages of the previous case would throttle this one's writes: flush them first.
    os.sync()
    proc = subprocess.run(
        [sys.executable, __file__, *argv], env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode:
        raise SystemExit(f"case failed: {argv}\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _engine_argv(data: DataSet, archive: str, home: Path) -> list[str]:
    return [
        "--child",
        "engine",
        "--source",
        str(data.path),
        "--archive",
        archive,
        "--home",
        str(home),
    ]


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _measure(
    data: DataSet,
    archive: str,
    repo: str,
    work: Path,
    env: dict[str, str],
    s3: S3Target | None,
) -> dict[str, Any]:
    dest = Path(tempfile.mkdtemp(prefix="floor-", dir=data.path.parent.parent))
    floor_argv = ["--child", "floor", "--source", str(data.path), "--archive", archive]
    floor_argv += ["--repo", repo, "--store", str(work / "floor-store"), "--dest", str(dest / "d")]
    if s3 is not None:
        floor_argv += ["--s3", json.dumps(s3.__dict__)]
    floor = _child(floor_argv, env)
    shutil.rmtree(dest, ignore_errors=True)
    shutil.rmtree(work / "floor-store", ignore_errors=True)
    (work / "floor-store").mkdir()
    home = Path(tempfile.mkdtemp(prefix="home-", dir=work))
    ours = _child(_engine_argv(data, archive, home), env)
    shutil.rmtree(home, ignore_errors=True)
    if ours["phase"] != "Succeeded":
        raise SystemExit(f"{data.name} {repo} {archive}: the workflow ended {ours['phase']}")
    row = {
        "data": data.name,
        "repository": repo,
        "archive": archive,
        "seconds": round(ours["seconds"], 3),
        "save_seconds": round(ours["save"], 3),
        "load_seconds": round(ours["load"], 3),
        "floor_seconds": round(floor["seconds"], 3),
        "ratio": round(ours["seconds"] / max(floor["seconds"], 1e-3), 2),
        "rss_mib": round(ours["rss_mib"], 1),
        "floor_rss_mib": round(floor["rss_mib"], 1),
        "workflow_seconds": round(ours["wall"], 3),
        "load": _load(),
    }
    print(
        f"{data.name:>11} {repo:>5} {archive:<5} {row['seconds']:7.2f}s "
        f"(save {row['save_seconds']:.2f} + load {row['load_seconds']:.2f}) "
        f"floor {row['floor_seconds']:6.2f}s  x{row['ratio']:<5} "
        f"rss {row['rss_mib']:5.0f} MiB (floor {row['floor_rss_mib']:4.0f})  "
        f"workflow {row['workflow_seconds']:6.2f}s  load {row['load']}",
        flush=True,
    )
    return row


def _baseline(data: DataSet, work: Path, env: dict[str, str]) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="home-", dir=work))
    plain = _child(_engine_argv(data, "-", home), env)
    shutil.rmtree(home, ignore_errors=True)
    print(
        f"{data.name:>11} no artifacts: workflow {plain['wall']:6.2f}s "
        f"rss {plain['rss_mib']:5.0f} MiB  load {_load()}",
        flush=True,
    )
    return {"data": data.name, "workflow_seconds": round(plain["wall"], 3)}


@contextmanager
def _s3_server(work: Path, wanted: bool) -> Iterator[tuple[S3Target | None, str]]:
    if not wanted:
        yield None, "skipped (--no-s3)"
        return
    sys.path.insert(0, str(ROOT))
    from clusterforge.tools import Toolchain

    if Toolchain().locate("weed") is None:
        yield None, "skipped: weed is not built (clusterforge tools install weed)"
        return
    from tests.artifacts.seaweed import seaweed_server

    (work / "seaweed").mkdir()
    with seaweed_server(work / "seaweed") as server:
        yield (
            S3Target(server.endpoint, server.bucket, server.access_key, server.secret_key),
            "SeaweedFS on loopback",
        )


def _repositories_file(work: Path, s3: S3Target) -> Path:
    path = work / "artifact-repositories.yaml"
    path.write_text(
        "apiVersion: v1\nkind: ConfigMap\n"
        "metadata:\n  name: artifact-repositories\n  annotations:\n"
        "    workflows.argoproj.io/default-artifact-repository: bench\n"
        "data:\n  bench: |\n    s3:\n"
        f"      endpoint: {s3.endpoint}\n      bucket: {s3.bucket}\n"
        "      insecure: true\n      pathStyle: true\n"
    )
    return path


def _data_sets(args: argparse.Namespace, root: Path) -> list[DataSet]:
    big, small, files = (64, 16, 1000) if args.quick else (args.size_mib, args.small_mib, 10_000)
    sets = []
    for size in (big, small):
        label = f"{size // 1024}GiB" if size % 1024 == 0 else f"{size}MiB"
        path = root / f"file-{label}" / "big.bin"
        _make_file(path, size * MIB)
        sets.append(DataSet(f"file-{label}", path))
    tree = root / f"dir-{files}" / "tree"
    _make_tree(tree, files)
    sets.append(DataSet(f"dir-{files}", tree))
    return sets


def run_all(args: argparse.Namespace, work: Path, data_root: Path) -> dict[str, Any]:
    data_sets = _data_sets(args, data_root)
    archives = args.archives.split(",")
    rows: list[dict[str, Any]] = []
    baselines: list[dict[str, Any]] = []
    with _s3_server(work, not args.no_s3) as (s3, s3_note):
        print(f"S3: {s3_note}; data in {data_root.parent}, repository in {work}", flush=True)
        repos: list[tuple[str, S3Target | None]] = [("local", None)]
        if s3 is not None:
            repos.append(("s3", s3))
        for data in data_sets:
            (work / "floor-store").mkdir(exist_ok=True)
            baselines.append(_baseline(data, work, dict(os.environ)))
            for repo, target in repos:
                env = dict(os.environ)
                if target is not None:
                    env["CLUSTERFORGE_ARTIFACT_REPOSITORIES"] = str(
                        _repositories_file(work, target)
                    )
                    env["AWS_ACCESS_KEY_ID"] = target.access_key
                    env["AWS_SECRET_ACCESS_KEY"] = target.secret_key
                for archive in archives:
                    rows.append(_measure(data, archive, repo, work, env, target))
    return {
        "bench": "artifacts",
        "what": "save (PodArtifacts.collect) + load (PodArtifacts.stage) in a two-step workflow",
        "s3": s3_note,
        "cpus": os.cpu_count(),
        "load": os.getloadavg(),
        "results": rows,
        "no_artifact_workflows": baselines,
    }


def _child_main(args: argparse.Namespace) -> None:
    if args.child == "engine":
        archive = None if args.archive == "-" else args.archive
        print(json.dumps(engine_case(Path(args.source), archive, Path(args.home))))
        return
    started = time.perf_counter()
    if args.repo == "s3":
        floor_s3(Path(args.source), args.archive, S3Target(**json.loads(args.s3)), Path(args.dest))
    else:
        floor_local(Path(args.source), args.archive, Path(args.store), Path(args.dest))
    seconds = time.perf_counter() - started
    rss = max(_peak_rss_mib() if args.repo == "s3" else 0.0, _children_peak_mib())
    print(json.dumps({"seconds": seconds, "rss_mib": rss}))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for smoke runs")
    parser.add_argument("--no-s3", action="store_true")
    parser.add_argument("--archives", default="gzip,tar,none")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--small-mib", type=int, default=100)
    for hidden in ("--child", "--source", "--archive", "--home", "--repo", "--store"):
        parser.add_argument(hidden, default="", help=argparse.SUPPRESS)
    parser.add_argument("--dest", default="", help=argparse.SUPPRESS)
    parser.add_argument("--s3", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child_main(args)
        return 0
    sys.path.insert(0, str(ROOT / "src"))
    from clusterforge import paths

    scratch = Path(os.environ.get("BENCH_TMP") or ROOT / ".bench-scratch")
    scratch.mkdir(exist_ok=True)
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="artifacts-", dir=scratch))
        stack.callback(shutil.rmtree, work, True)
        # The data lives where the steps' /tmp lives, so floor and engine read and write alike.
        data_root = Path(tempfile.mkdtemp(prefix="artbench-", dir=paths.scratch_home() or work))
        stack.callback(shutil.rmtree, data_root, True)
        doc = run_all(args, work, data_root / "data")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "artifacts.json").write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
