"""Argo's key layout, keys that would leave the workflow's prefix, and repository documents."""

from __future__ import annotations

import posixpath
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clusterforge.engine.artifacts import (
    DEFAULT_KEY_FORMAT,
    Repositories,
    UnsafeKey,
    checked_key,
    key_prefix,
    key_values,
    log_key,
    output_key,
    render_key,
)
from clusterforge.errors import InvalidInput, NotFound

WF = {"workflow.name": "art-passing-x7k2p", "workflow.namespace": "argo"}


def test_default_layout_is_workflow_then_pod() -> None:
    assert DEFAULT_KEY_FORMAT == "{{workflow.name}}/{{pod.name}}"
    prefix = key_prefix(None, key_values(WF, "art-passing-x7k2p-generate-123"))
    assert prefix == "art-passing-x7k2p/art-passing-x7k2p-generate-123"
    assert output_key(prefix, "hello-art", "/tmp/hello_world.txt", archived=True) == (
        f"{prefix}/hello-art.tgz"
    )
    assert output_key(prefix, "hello-art", "/tmp/hello_world.txt", archived=False) == (
        f"{prefix}/hello_world.txt"
    )
    assert log_key(prefix) == f"{prefix}/main.log"


def test_a_custom_key_format_renders_workflow_variables() -> None:
    values = key_values(WF, "pod-1")
    assert key_prefix("builds/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}", values) == (
        "builds/argo/art-passing-x7k2p/pod-1"
    )


@pytest.mark.parametrize(
    ("template", "values"),
    [
        ("{{workflow.name}}/../other/x", WF),
        ("/abs/{{workflow.name}}", WF),
        ("{{workflow.name}}/{{inputs.parameters.p}}", {**WF, "inputs.parameters.p": "../../x"}),
        ("{{inputs.parameters.p}}/x", {**WF, "inputs.parameters.p": ""}),
        ("a\\b", WF),
    ],
)
def test_keys_that_leave_the_prefix_are_refused(template: str, values: dict[str, str]) -> None:
    with pytest.raises(UnsafeKey, match=r"outputs\.artifacts\.a\.s3\.key"):
        render_key(template, values, "outputs.artifacts.a.s3.key")


def test_an_unknown_variable_in_a_key_names_the_field() -> None:
    with pytest.raises(InvalidInput, match=r"keyFormat: cannot render"):
        key_prefix("{{workflow.nope}}/{{pod.name}}", key_values(WF, "p"))


CONFIG = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: artifact-repositories
  annotations:
    workflows.argoproj.io/default-artifact-repository: default-local
data:
  default-local: |
    archiveLogs: true
    local:
      path: /srv/artifacts
  my-s3: |
    s3:
      bucket: builds
      endpoint: 127.0.0.1:8333
      insecure: true
      keyFormat: "{{workflow.name}}/{{pod.name}}"
      accessKeySecret: {name: s3-cred, key: accesskey}
      secretKeySecret: {name: s3-cred, key: secretkey}
"""


def test_no_configuration_is_the_embedded_local_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(tmp_path))
    monkeypatch.delenv("CLUSTERFORGE_ARTIFACT_REPOSITORIES", raising=False)
    config = Repositories.load().resolve(None)
    assert config.local is not None
    assert config.local.path == str(tmp_path / "artifacts")


def test_default_entry_and_named_ref() -> None:
    repos = Repositories.parse(CONFIG, "repos.yaml")
    default = repos.resolve(None)
    assert default.local is not None
    assert default.local.path == "/srv/artifacts"
    assert default.archive_logs is True
    named = repos.resolve({"configMap": "artifact-repositories", "key": "my-s3"})
    assert named.s3 is not None
    assert named.s3.bucket == "builds"
    assert named.s3.insecure is True
    assert named.s3.access_key_secret is not None
    assert named.s3.access_key_secret.name == "s3-cred"
    assert named.name == "artifact-repositories/my-s3"


def test_unknown_ref_names_what_exists() -> None:
    repos = Repositories.parse(CONFIG, "repos.yaml")
    with pytest.raises(NotFound, match=r"no key 'nope' \(keys: default-local, my-s3\)"):
        repos.resolve({"key": "nope"})
    with pytest.raises(NotFound, match="no ConfigMap 'other'"):
        repos.resolve({"configMap": "other"})


def test_credentials_in_clear_are_refused() -> None:
    text = CONFIG.replace("accessKeySecret: {name: s3-cred, key: accesskey}", "accessKey: AKIA1")
    with pytest.raises(InvalidInput, match=r"s3.accessKey: credentials are never read in clear"):
        Repositories.parse(text, "repos.yaml").resolve({"key": "my-s3"})


def test_a_bad_field_is_named() -> None:
    text = CONFIG.replace("insecure: true", "insecure: maybe")
    with pytest.raises(InvalidInput, match=r"my-s3: s3.insecure"):
        Repositories.parse(text, "repos.yaml").resolve({"key": "my-s3"})


def test_a_huge_document_is_not_parsed() -> None:
    with pytest.raises(InvalidInput, match="larger than"):
        Repositories.parse("#" * (1 << 21), "repos.yaml")


@given(st.lists(st.sampled_from(["a", "b.c", "..", ".", "", "x y", "\\", "wf"]), max_size=6))
def test_a_checked_key_never_leaves_its_root(parts: list[str]) -> None:
    raw = "/".join(parts)
    try:
        key = checked_key(raw, "key")
    except UnsafeKey:
        return
    assert not key.startswith("/")
    assert ".." not in key.split("/")
    assert posixpath.normpath(f"root/{key}").startswith("root/")
