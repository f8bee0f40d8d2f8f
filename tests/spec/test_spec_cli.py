"""``clusterforge spec validate`` and ``spec schema``, run as the real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from spec_helpers import EXAMPLES, base


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clusterforge.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_validate_examples() -> None:
    result = _cli("spec", "validate", str(EXAMPLES / "dev-cluster.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"{EXAMPLES / 'dev-cluster.yaml'}: valid — cluster dev, 1 node group, "
        "add-ons: coredns, metrics-server\n"
    )
    large = _cli("spec", "validate", str(EXAMPLES / "large-cluster.yaml"))
    assert large.returncode == 0, large.stderr
    assert "cluster large, 3 node groups, add-ons: cert-manager, cluster-autoscaler" in large.stdout


def test_validate_reports_every_problem_and_exits_2(tmp_path: Path) -> None:
    doc = base()
    doc["metadata"]["name"] = "Dev"
    doc["spec"]["nodeGroups"][0]["instanceType"] = "m9.huge"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = _cli("spec", "validate", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: {path}: metadata.name: 'Dev' is not a valid cluster name")
    assert lines[1].startswith(
        f"{path}: spec.nodeGroups[0].instanceType: 'm9.huge' is not a known instance type; allowed:"
    )
    assert "Traceback" not in result.stderr


def test_validate_several_files_reports_each(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = _cli("spec", "validate", str(EXAMPLES / "dev-cluster.yaml"), str(missing))
    assert result.returncode == 2
    assert "dev-cluster.yaml: valid" in result.stdout
    assert f"{missing}: no such file" in result.stderr


def test_schema_prints_the_json_schema() -> None:
    result = _cli("spec", "schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "spec" in schema["properties"]
