"""The shipped manifest, its parsing, and the pinned binaries themselves."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from clusterforge.errors import InvalidInput
from clusterforge.tools import RefusedModule, Toolchain, load_manifest, parse_manifest
from clusterforge.tools._gobuild import _MODULE_ERROR
from clusterforge.tools._manifest import normalize_version, render

EXPECTED = {
    "kubectl",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "etcd",
    "etcdctl",
    "kwok",
    "kwokctl",
    "helm",
    "workflow-controller",
    "argo-validate",
    "weed",
}


def test_shipped_manifest_pins_every_tool_with_a_build() -> None:
    manifest = load_manifest()
    assert set(manifest.tools) == EXPECTED
    for spec in manifest.tools.values():
        assert spec.build is not None, spec.name
        source = manifest.source_of(spec)
        assert source.version == spec.version, spec.name
    kube = {"kubectl", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}
    assert {manifest.tools[name].version for name in kube} == {"v1.34.4"}
    assert manifest.sources["kubernetes"].staging is not None
    assert manifest.sources["kubernetes"].staging.version == "v0.34.4"
    assert [s.name for s in manifest.tools.values() if not s.required] == ["weed"]
    # Argo's v4 line is served only at v4.0.5, which has published advisories;
    # the patched v3.7 line is pinned (see the manifest's comment).
    assert {manifest.tools[name].version for name in ("workflow-controller", "argo-validate")} == {
        manifest.sources["argo"].version
    }
    assert manifest.tools["argo-validate"].build.local == "go/argo-validate"  # type: ignore[union-attr]


def test_downloads_without_a_pinned_checksum_stay_disabled() -> None:
    manifest = load_manifest()
    with_checksums = {
        name
        for name, spec in manifest.tools.items()
        if spec.download is not None and spec.download.sha256
    }
    assert with_checksums == {"kubectl", "etcd", "etcdctl"}
    url = render(manifest.tools["kubectl"].download.url, manifest.tools["kubectl"])  # type: ignore[union-attr]
    assert url.startswith("https://dl.k8s.io/release/v1.34.4/bin/")


def test_manifest_errors_name_the_field() -> None:
    bad_source = {
        "tools": {
            "x": {
                "version": "v1.0.0",
                "version_args": [],
                "version_pattern": "(v.*)",
                "build": {"source": "nowhere", "package": "example.com/x"},
            }
        }
    }
    with pytest.raises(InvalidInput, match=r"tools\.x\.build\.source names unknown source"):
        parse_manifest(yaml.safe_dump(bad_source), "m.yaml")
    bad_sha = {
        "tools": {
            "x": {
                "version": "v1.0.0",
                "version_args": [],
                "version_pattern": "(v.*)",
                "download": {"url": "https://example.com/x", "sha256": {"linux/amd64": "abc"}},
            }
        }
    }
    with pytest.raises(InvalidInput, match=r"m\.yaml: (?s:.*)sha256"):
        parse_manifest(yaml.safe_dump(bad_sha), "m.yaml")


_segment = st.from_regex(r"[a-z][a-z0-9\-]{0,8}", fullmatch=True)
_module = st.builds(
    lambda host, parts: "/".join([f"{host}.io", *parts]), _segment, st.lists(_segment, max_size=3)
)
_version = st.builds(
    lambda a, b, c: f"v{a}.{b}.{c}", st.integers(0, 40), st.integers(0, 40), st.integers(0, 40)
)
_message = st.from_regex(r"[A-Za-z0-9 .:/@_\-]{1,60}", fullmatch=True).map(str.strip).filter(bool)


@given(_module, _version, _message, st.booleans())
def test_go_module_errors_parse_back_to_module_version_and_error(
    module: str, version: str, message: str, indented: bool
) -> None:
    detail = f"reading {message}: 403 Forbidden"
    if indented:
        detail += "\n\tserver response: not available"
    stderr = f"go: downloading other.io/x v1.0.0\ngo: {module}@{version}: {detail}\n"
    match = _MODULE_ERROR.search(stderr)
    assert match is not None
    assert (match.group("module"), match.group("version")) == (module, version)
    assert match.group("error") == detail
    refused = RefusedModule(module, version, f"{module}@{version}: {detail}")
    assert refused.error == detail
    assert str(refused) == f"Go module {module} {version} is unavailable: {detail}"


@given(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99))
def test_versions_match_with_or_without_the_v(a: int, b: int, c: int) -> None:
    assert normalize_version(f"v{a}.{b}.{c}") == normalize_version(f"{a}.{b}.{c}")


@pytest.mark.cluster
def test_each_installed_tool_reports_its_pinned_version(tool_path: object) -> None:
    toolchain = Toolchain()
    for row in toolchain.status():
        if not row.required and not row.ok:
            # an optional tool that cannot be built has its reason on record.
            assert row.problem
            continue
        spec = toolchain.manifest.tool(row.name)
        binary = toolchain.cache.bin_dir / row.name
        done = subprocess.run(
            [str(binary), *spec.version_args], capture_output=True, text=True, timeout=60
        )
        found = spec.parse_version(done.stdout + done.stderr)
        assert found is not None, f"{row.name}: {done.stdout}{done.stderr}"
        assert normalize_version(found) == normalize_version(spec.version), row.name
