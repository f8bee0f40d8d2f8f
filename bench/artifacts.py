"""Artifact passing between two steps: time and peak RSS against a ``tar | cp`` floor.

Two data sets — one 1 GiB file (random, incompressible) and a directory of
10,000 small files — go from one step's directory into a repository and out
into another step's directory, the way an output artifact of one step becomes
the input artifact of the next. Each case runs in its own process so its peak
RSS is its own (``wait4``). Cases: the local repository and S3 (SeaweedFS on
loopback, when ``weed`` is built), each with Argo's default archive
(tar+gzip, default level) and with ``tar.compressionLevel: 0``. The floor,
measured in the same run on the same files: ``tar -cf - | cat > object`` then
``tar -xf object``. A small file (64 MiB) is measured too, to show whether
RSS grows with the file size.

The local operator does not call the artifact hooks yet (it is being split up
while this lands), so this measures the repository put/get path the hooks use
(:func:`put_path` / :func:`get_path`), not a whole workflow run.

Writes ``bench/results/artifacts.json``. Goal: within 1.5x of the floor; RSS
independent of the size.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
GIB = 1 << 30


def _make_file(path: Path, size: int) -> None:
    with path.open("wb") as out:
        left = size
        while left:
            chunk = os.urandom(min(left, 8 << 20))
            out.write(chunk)
            left -= len(chunk)


def _make_tree(root: Path, count: int) -> None:
    for index in range(count):
        directory = root / f"d{index // 100:03d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{index:05d}.txt").write_bytes(os.urandom(1024))


def _run_measured(
    argv: list[str], env: dict[str, str] | None = None
) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds, peak RSS (KiB) and stdout of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"case failed: {' '.join(argv)}")
    return seconds, usage.ru_utime + usage.ru_stime, int(usage.ru_maxrss), out


def _floor(source: Path, store: Path, dest: Path) -> tuple[float, float, int, str]:
    obj = store / "floor.tar"
    dest.mkdir(parents=True, exist_ok=True)
    script = 'tar -C "$1" -cf - "$2" | cat > "$3" && tar -C "$4" -xf "$3" && rm -f "$3"'
    return _run_measured(
        ["sh", "-c", script, "sh", str(source.parent), source.name, str(obj), str(dest)]
    )


def _case(args: argparse.Namespace) -> None:
    """Child mode: one put then one get, as two steps would."""
    from clusterforge.engine.artifacts import (
        LocalRepository,
        S3Config,
        S3Repository,
        get_path,
        put_path,
    )

    repo: Any
    if args.repo == "local":
        repo = LocalRepository("bench", Path(args.store))
    else:
        repo = S3Repository(
            "bench",
            S3Config.model_validate(
                {"bucket": args.bucket, "endpoint": args.endpoint, "insecure": True}
            ),
        )
    key = f"bench/{Path(args.source).name}-{args.level}.tgz"
    started, cpu = time.perf_counter(), os.times()
    put_path(repo, key, Path(args.source), archived=True, level=args.level)
    get_path(repo, key, Path(args.dest))
    after = os.times()
    # Only the transfer: the interpreter's start and imports are not the hooks' cost.
    used = (after.user - cpu.user) + (after.system - cpu.system)
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu": used}))
    repo.delete(key)


def _measure(
    name: str,
    source: Path,
    work: Path,
    s3: Any | None,
    results: list[dict[str, Any]],
    levels: tuple[int, ...] = (-1, 0),
) -> None:
    floor_s, floor_cpu, floor_rss, _ = _floor(source, work, work / f"floor-{name}")
    shutil.rmtree(work / f"floor-{name}", ignore_errors=True)
    row: dict[str, Any] = {
        "data": name,
        "floor_seconds": round(floor_s, 2),
        "floor_rss_kib": floor_rss,
        "cases": [],
    }
    repos = [("local", {})]
    if s3 is not None:
        repos.append(("s3", {"endpoint": s3.endpoint, "bucket": s3.bucket}))
    for repo, extra in repos:
        for level in levels:
            dest = work / f"dest-{name}-{repo}-{level}"
            argv = [
                sys.executable,
                __file__,
                "--case",
                "--repo",
                repo,
                "--store",
                str(work / "repo"),
                "--source",
                str(source),
                "--dest",
                str(dest),
                "--level",
                str(level),
            ]
            for flag, value in extra.items():
                argv += [f"--{flag}", value]
            env = dict(os.environ)
            if s3 is not None:
                env.update(AWS_ACCESS_KEY_ID=s3.access_key, AWS_SECRET_ACCESS_KEY=s3.secret_key)
            _wall, _cpu, rss, out = _run_measured(argv, env)
            inner = json.loads(out.strip().splitlines()[-1])
            shutil.rmtree(dest, ignore_errors=True)
            case = {
                "repository": repo,
                "archive": "tar+gzip default" if level < 0 else "tar compressionLevel 0",
                "seconds": round(inner["seconds"], 2),
                "cpu_seconds": round(inner["cpu"], 2),
                "ratio_to_floor": round(inner["seconds"] / floor_s, 2),
                "cpu_ratio_to_floor": round(inner["cpu"] / max(floor_cpu, 0.01), 2),
                "peak_rss_kib": rss,
            }
            row["cases"].append(case)
            print(
                f"{name:>12} {repo:>5} {case['archive']:<24} {case['seconds']:7.2f}s "
                f"x{case['ratio_to_floor']:<5} cpu {case['cpu_seconds']:6.2f}s "
                f"x{case['cpu_ratio_to_floor']:<5} | floor {floor_s:6.2f}s cpu {floor_cpu:5.2f}s"
                f" | rss {rss // 1024} MiB (floor {floor_rss // 1024} MiB)",
                flush=True,
            )
    results.append(row)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", action="store_true")
    parser.add_argument("--repo", default="local")
    parser.add_argument("--store", default="")
    parser.add_argument("--source", default="")
    parser.add_argument("--dest", default="")
    parser.add_argument("--level", type=int, default=-1)
    parser.add_argument("--endpoint", default="")
    parser.add_argument("--bucket", default="")
    parser.add_argument("--size-gib", type=float, default=1.0)
    parser.add_argument("--no-s3", action="store_true")
    parser.add_argument(
        "--big-levels",
        default="-1,0",
        help="gzip levels for the big file (-1: Argo's default; 0: tar compressionLevel 0)",
    )
    args = parser.parse_args()
    if args.case:
        _case(args)
        return 0
    scratch = Path(os.environ.get("BENCH_TMP") or ROOT / ".bench-scratch")
    scratch.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="artifacts-", dir=scratch))
    results: list[dict[str, Any]] = []
    try:
        return _run_all(args, work, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_all(args: argparse.Namespace, work: Path, results: list[dict[str, Any]]) -> int:
    from contextlib import ExitStack

    sys.path.insert(0, str(ROOT))
    from clusterforge.tools import Toolchain

    size = int(args.size_gib * GIB)
    (work / "src-big").mkdir()
    _make_file(work / "src-big" / "big.bin", size)
    (work / "src-small").mkdir()
    _make_file(work / "src-small" / "small.bin", 64 << 20)
    _make_tree(work / "tree", 10_000)
    s3_note = "measured"
    with ExitStack() as stack:
        s3 = None
        if args.no_s3:
            s3_note = "skipped (--no-s3)"
        elif Toolchain().locate("weed") is None:
            s3_note = "skipped: weed is not built (clusterforge tools install weed)"
        else:
            from tests.artifacts.seaweed import seaweed_server

            (work / "seaweed").mkdir()
            s3 = stack.enter_context(seaweed_server(work / "seaweed"))
        print(f"S3: {s3_note}", flush=True)
        big_levels = tuple(int(x) for x in args.big_levels.split(","))
        _measure(
            f"file-{args.size_gib:g}GiB",
            work / "src-big" / "big.bin",
            work,
            s3,
            results,
            big_levels,
        )
        _measure("file-64MiB", work / "src-small" / "small.bin", work, s3, results)
        _measure("dir-10000", work / "tree", work, s3, results)
    RESULTS.mkdir(exist_ok=True)
    doc = {
        "bench": "artifacts",
        "what": "repository put+get (the hooks' path)",
        "s3": s3_note,
        "cpus": os.cpu_count(),
        "load": os.getloadavg(),
        "results": results,
    }
    (RESULTS / "artifacts.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
