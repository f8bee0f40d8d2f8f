"""Real .bats files load the shipped bash library and behave as with bats-detik.

The cluster is the stand-in client (see fake_kubectl.py); the bats run, the
library, the ``clusterforge detik`` process and the sentence evaluation are
all real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from detik_fake import HERE, FakeCluster, clusterforge_bin

BATS = shutil.which("bats")
pytestmark = pytest.mark.skipif(
    BATS is None, reason="bats is not installed (make setup installs the Debian package)"
)


def run_bats(fake: FakeCluster, name: str) -> subprocess.CompletedProcess[str]:
    assert BATS is not None
    env = {key: value for key, value in fake.env.items() if not key.startswith("DETIK_")}
    env["FAKE_KUBECTL"] = fake.client
    env["CLUSTERFORGE_BIN"] = str(clusterforge_bin())
    return subprocess.run(
        [BATS, "--tap", str(HERE / name)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_library_passes_and_fails_like_detik(fake: FakeCluster) -> None:
    done = run_bats(fake, "detik_library.bats")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "1..10"
    assert all(line.startswith("ok ") for line in lines[1:] if not line.startswith("#"))


def test_failing_checks_fail_the_bats_tests(fake: FakeCluster) -> None:
    done = run_bats(fake, "detik_failing.bats")
    assert done.returncode == 1
    results = [line for line in done.stdout.splitlines() if not line.startswith("#")]
    assert results == [
        "1..3",
        "ok 1 holds",
        "not ok 2 a wrong count, called directly",
        "not ok 3 a try that never holds, checked through run",
    ]
    assert "expected 3 pods named 'metrics-server' in namespace 'kube-system', found 2" in (
        done.stdout
    )
    assert "expected 2 pods named 'coredns'" in done.stdout
    assert "gave up after 2 attempts" in done.stdout


def test_library_without_clusterforge_returns_127(tmp_path: Path) -> None:
    assert BATS is not None
    bats_file = tmp_path / "missing.bats"
    library = subprocess.run(
        [str(clusterforge_bin()), "detik-lib"], capture_output=True, text=True, check=True
    ).stdout.strip()
    bats_file.write_text(
        f'load "{library}"\n'
        '@test "no clusterforge" {\n'
        "  CLUSTERFORGE_BIN=/nonexistent/clusterforge run verify \"there is 1 pod named 'x'\"\n"
        '  [ "$status" -eq 127 ]\n'
        '  [[ "$output" == *"set CLUSTERFORGE_BIN"* ]]\n'
        "}\n"
    )
    done = subprocess.run(
        [BATS, "--tap", str(bats_file)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
