"""``clusterforge lint`` as a user runs it: the real console script in a subprocess.

Bad input must exit 2 with the file and the field in the message — never a
traceback; good input exits 0 with a one-line summary on stdout.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clusterforge.templates import TEMPLATE_DIR

CLI = Path(sys.executable).parent / "clusterforge"
CONFORMANCE = Path(__file__).parent.parent / "conformance"
INVALID = CONFORMANCE / "invalid"
FIXED = Path(__file__).parent / "fixed"


def lint(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "lint", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _failed(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return result.stderr


def test_malformed_yaml_exits_2_with_file_line_and_column() -> None:
    path = INVALID / "malformed-yaml.yaml"
    err = _failed(lint(path))
    assert f"error: {path}:6:5: invalid YAML:" in err
    assert err.rstrip().endswith("1 error; 0 documents read")


def test_wrong_types_exit_2_with_file_and_field_path() -> None:
    path = INVALID / "wrong-types.yaml"
    err = _failed(lint(path))
    assert (
        f"{path}:12: spec.templates[0].retryStrategy.limit: expected an integer or string, "
        "got a list" in err
    )
    assert f"{path}:9: spec.parallelism: expected an integer, got the string '2'" in err


def test_unknown_template_exits_2_naming_template_task_and_field() -> None:
    path = INVALID / "unknown-template.yaml"
    err = _failed(lint(path))
    assert (
        f"error: {path}:13: template 'main' › task 'b': template: unknown template 'ech' "
        "(templates here: echo, main) — did you mean 'echo'?" in err
    )


def test_a_cycle_exits_2_naming_the_cycle() -> None:
    path = INVALID / "cycle.yaml"
    err = _failed(lint(path))
    assert f"{path}:13: template 'main' › task 'a': depends: dependency cycle: a → c → b → a" in err


def test_a_valid_directory_exits_0_with_a_summary() -> None:
    result = lint(TEMPLATE_DIR)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    count = len(list(TEMPLATE_DIR.glob("*.yaml")))
    assert result.stdout == f"{count} documents OK\n"


def test_warnings_are_printed_but_do_not_fail() -> None:
    result = lint(INVALID / "unsupported-fields.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 document OK, ")
    assert "warning: " in result.stderr
    assert "spec.nodeSelector: ignored: steps run as processes on this host" in result.stderr


def test_template_dirs_serve_template_refs_and_parameters_fill_values() -> None:
    path = FIXED / "template-ref-missing-template.yaml"
    assert lint(path).returncode == 2  # greetings is not in the library without the directory
    result = lint(path, "--template-dir", CONFORMANCE / "templates")
    assert result.returncode == 0, result.stderr
    params = INVALID / "missing-workflow-parameter.yaml"
    assert "workflow parameter 'cluster-name' has no value" in _failed(lint(params))
    assert lint(params, "-p", "cluster-name=dev").returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.yaml"], "missing.yaml: no such file or directory"),
        (["-p", "novalue", "x.yaml"], "-p 'novalue': expected NAME=VALUE"),
    ],
)
def test_usage_mistakes_exit_2_without_a_traceback(args: list[str], message: str) -> None:
    assert message in _failed(lint(*args))


def test_a_directory_without_argo_documents_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text("replicas: 2\n")
    assert "no Workflow, WorkflowTemplate or ClusterWorkflowTemplate found" in _failed(
        lint(tmp_path)
    )


def test_every_file_of_a_directory_is_reported(tmp_path: Path) -> None:
    for name in ("cycle.yaml", "malformed-yaml.yaml", "unknown-template.yaml"):
        (tmp_path / name).write_text((INVALID / name).read_text())
    err = _failed(lint(tmp_path))
    for name in ("cycle.yaml", "malformed-yaml.yaml", "unknown-template.yaml"):
        assert str(tmp_path / name) in err
    assert err.rstrip().endswith("3 errors; 2 documents read")
