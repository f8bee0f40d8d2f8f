"""Reading spec files: YAML and JSON, the YAML traps, relative paths, file errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from spec_helpers import EXAMPLES, base

from clusterforge.errors import InvalidInput
from clusterforge.spec import SpecError, load_spec, parse_spec, spec_document


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["dev-cluster", "large-cluster", "aws-cluster"])
def test_examples_validate(name: str) -> None:
    spec = load_spec(EXAMPLES / f"{name}.yaml")
    assert spec.api_version == "clusterforge.dev/v1alpha1"


def test_large_example_has_three_groups_and_every_catalog_addon() -> None:
    spec = load_spec(EXAMPLES / "large-cluster.yaml")
    assert [(g.name, g.instance_type, g.desired) for g in spec.spec.node_groups] == [
        ("system", "m5.xlarge", 3),
        ("general", "c5.xlarge", 4),
        ("memory", "r5.2xlarge", 2),
    ]
    assert spec.spec.node_groups[0].taints[0].effect == "NoSchedule"
    assert spec.spec.node_groups[2].zones == ["zone-a", "zone-b"]
    assert all(v is not None for v in spec.spec.addons.values())
    assert len(spec.spec.addons) == 6
    assert spec.spec.validation.checks


def test_json_and_yaml_give_the_same_spec(tmp_path: Path) -> None:
    doc = base()
    from_json = load_spec(_write(tmp_path, "c.json", json.dumps(doc)))
    from_yaml = load_spec(_write(tmp_path, "c.yaml", yaml.safe_dump(doc)))
    assert from_json == from_yaml == parse_spec(doc)


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    text = yaml.safe_dump(base(), sort_keys=False).replace(
        "kind: Cluster\n", "kind: Cluster\nkind: Cluster\n"
    )
    path = _write(tmp_path, "c.yaml", text)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3:")
    assert "key 'kind' appears twice in one mapping (first on line 2)" in message


def test_duplicate_json_key_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.json", '{"kind": "Cluster", "kind": "Cluster"}')
    with pytest.raises(SpecError, match="key 'kind' appears twice"):
        load_spec(path)


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", "apiVersion: x\nkind: [Cluster\n")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(caught.value).startswith(f"{path}:3:1: not valid YAML")


def test_json_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.json", '{\n  "kind": }')
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(caught.value).startswith(f"{path}:2:11: not valid JSON")


def test_several_documents_are_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", "a: 1\n---\nb: 2\n")
    with pytest.raises(SpecError, match="holds 2 YAML documents; a spec is exactly one"):
        load_spec(path)


def test_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", "")
    with pytest.raises(SpecError, match="is empty; a spec is a mapping"):
        load_spec(path)


def test_python_object_tags_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", "a: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file") as caught:
        load_spec(tmp_path / "nope.yaml")
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.exit_code == 2
    with pytest.raises(SpecError, match="is a directory"):
        load_spec(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(path)


def test_relative_paths_resolve_against_the_spec_file(tmp_path: Path) -> None:
    doc = base()
    doc["spec"]["addons"]["web"] = {"kustomize": {"path": "overlays/dev"}}
    doc["spec"]["addons"]["db"] = {"chart": {"path": "/abs/chart"}}
    doc["spec"]["validation"] = {"batsFiles": ["../tests/smoke.bats"]}
    folder = tmp_path / "specs"
    folder.mkdir()
    spec = load_spec(_write(folder, "c.yaml", yaml.safe_dump(doc)))
    web, db = spec.spec.addons["web"], spec.spec.addons["db"]
    assert web is not None
    assert web.kustomize is not None
    assert web.kustomize.path == str(folder / "overlays" / "dev")
    assert db is not None
    assert db.chart is not None
    assert db.chart.path == "/abs/chart"
    assert spec.spec.validation.bats_files == [str(tmp_path / "tests" / "smoke.bats")]
    # The stored document is self-contained: parsing it anywhere gives the same paths.
    assert parse_spec(spec_document(spec)) == spec


def test_payload_paths_stay_as_written_without_a_base_dir(tmp_path: Path) -> None:
    doc = base()
    doc["spec"]["addons"]["web"] = {"kustomize": {"path": "overlays/dev"}}
    kept = parse_spec(doc).spec.addons["web"]
    based = parse_spec(doc, base_dir=tmp_path).spec.addons["web"]
    assert kept is not None
    assert kept.kustomize is not None
    assert kept.kustomize.path == "overlays/dev"
    assert based is not None
    assert based.kustomize is not None
    assert based.kustomize.path == str(tmp_path / "overlays" / "dev")


def test_source_names_the_payload() -> None:
    doc = base()
    doc["kind"] = "Pod"
    with pytest.raises(SpecError) as caught:
        parse_spec(doc, source="POST /api/v1/builds")
    assert str(caught.value).startswith("POST /api/v1/builds: kind: ")
    assert caught.value.problems == [("kind", "'Pod' is not allowed; allowed: Cluster")]


def test_python_code_may_use_snake_case_names() -> None:
    from clusterforge.spec import ClusterSpec

    spec = ClusterSpec.model_validate(
        {
            "api_version": "clusterforge.dev/v1alpha1",
            "kind": "Cluster",
            "metadata": {"name": "py"},
            "spec": {
                "provider": {"type": "kwok"},
                "kubernetes_version": "1.34",
                "node_groups": [{"name": "g", "instance_type": "t3.medium", "desired": 1}],
            },
        }
    )
    assert spec.spec.node_groups[0].max == 1
    assert spec_document(spec)["spec"]["nodeGroups"][0]["instanceType"] == "t3.medium"


def test_specs_are_immutable() -> None:
    spec = parse_spec(base())
    with pytest.raises(ValueError, match="frozen"):
        spec.metadata.name = "other"  # type: ignore[misc]
