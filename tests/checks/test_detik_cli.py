"""``clusterforge detik`` and ``clusterforge detik-lib`` as a user runs them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from detik_fake import FakeCluster, clusterforge_bin


def cli(fake: FakeCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(clusterforge_bin()), *args],
        capture_output=True,
        text=True,
        env=fake.env,
        timeout=120,
        check=False,
    )


def test_ok_exits_0_on_stdout(fake: FakeCluster) -> None:
    done = cli(fake, "detik", "-n", "kube-system", "there are 2 pods named 'metrics-server'")
    assert done.returncode == 0
    assert done.stdout.startswith("ok: \"there are 2 pods named 'metrics-server'\"\n")
    assert done.stderr == ""


def test_failure_exits_3_saying_what_the_cluster_had(fake: FakeCluster) -> None:
    done = cli(fake, "detik", "-n", "kube-system", "there are 3 pods named 'metrics-server'")
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        "failed: \"there are 3 pods named 'metrics-server'\"",
        "  expected 3 pods named 'metrics-server' in namespace 'kube-system', found 2: "
        "metrics-server-6d94bc8694-abcde (Running), metrics-server-6d94bc8694-fghij (Running)",
    ]


def test_syntax_error_exits_2_with_a_caret(fake: FakeCluster) -> None:
    done = cli(fake, "detik", "there are two pods named 'x'")
    assert done.returncode == 2
    assert done.stderr == (
        "syntax error in sentence: \"there are two pods named 'x'\"\n"
        "  there are two pods named 'x'\n"
        "            ^ expected a number\n"
    )
    assert fake.calls() == []


@pytest.mark.parametrize("args", [[], [""], ["  "]])
def test_empty_sentence_exits_1(fake: FakeCluster, args: list[str]) -> None:
    done = cli(fake, "detik", *args)
    assert done.returncode == 1
    assert "empty sentence" in done.stderr


def test_words_are_joined_into_one_sentence(fake: FakeCluster) -> None:
    done = cli(fake, "detik", "-n", "kube-system", "--", "there", "are", "2", "pods", "named",
               "'metrics-server'")  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_namespace_flags_and_kubeconfig_reach_kubectl(fake: FakeCluster, tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text("apiVersion: v1\nkind: Config\n")
    assert cli(fake, "detik", "-A", "there are 7 pods named '-'").returncode == 0
    sentence = "there are 3 pods named 'nginx'"
    assert cli(fake, "detik", "--namespace", "default", sentence).returncode == 0
    assert cli(fake, "detik", "--kubeconfig", str(config), sentence).returncode == 0
    assert [call[4:] for call in fake.calls()] == [
        ["--all-namespaces"],
        ["--namespace=default"],
        [f"--kubeconfig={config}"],
    ]


def test_try_sentences_retry(fake: FakeCluster) -> None:
    fake.load(
        {"resources": {"pods": [{"name": "web-0", "props": {".status.phase": "Pending"}}]}},
        {"resources": {"pods": [{"name": "web-0", "props": {".status.phase": "Running"}}]}},
    )
    done = cli(
        fake,
        "detik",
        "at most 3 times every 0s to get pods named 'web' and verify that 'status' is 'running'",
    )
    assert done.returncode == 0, done.stderr
    assert len(fake.calls()) == 2


def test_keyword_restricts_the_grammar(fake: FakeCluster) -> None:
    done = cli(fake, "detik", "--keyword", "try", "there are 2 pods named 'metrics-server'")
    assert done.returncode == 2
    assert "try sentences start with 'at most" in done.stderr


def test_usage_errors_are_one_message_without_traceback(fake: FakeCluster, tmp_path: Path) -> None:
    done = cli(fake, "detik", "-n", "x", "-A", "there are 2 pods named 'x'")
    assert done.returncode == 2
    assert "choose one of a namespace" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
    done = cli(fake, "detik", "--kubeconfig", str(tmp_path / "nope"), "there is 1 pod named 'x'")
    assert done.returncode == 2
    assert "does not exist (--kubeconfig)" in " ".join(done.stderr.split())  # rich wraps lines


def test_missing_client_exits_3(fake: FakeCluster) -> None:
    fake.env["DETIK_CLIENT_NAME"] = "/nonexistent/kubectl"
    done = cli(fake, "detik", "there is 1 pod named 'x'")
    assert done.returncode == 3
    assert "cannot run the Kubernetes client '/nonexistent/kubectl'" in done.stderr


def test_detik_lib_prints_the_shipped_library(fake: FakeCluster) -> None:
    done = cli(fake, "detik-lib")
    assert done.returncode == 0
    path = Path(done.stdout.strip())
    assert path.is_absolute()
    assert path.name == "detik.bash"
    text = path.read_text()
    assert "verify() {" in text
    assert "try() {" in text
    syntax = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
