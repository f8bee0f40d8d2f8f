"""Users' own add-ons: validation, and rendering from every kind of source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from clusterforge.addons import ADDON_LABEL, ChartSource, UserAddon, render_user_addon
from clusterforge.errors import InvalidInput, OperationFailed


def objects(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _configmap(name: str, namespace: str | None = None) -> str:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return yaml.safe_dump(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": "v"}}
    )


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    """A small chart of the user's: one ConfigMap whose data comes from values."""
    root = tmp_path / "greeter"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: greeter\nversion: 1.0.0\n")
    (root / "values.yaml").write_text("greeting: hello\n")
    (root / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n"
    )
    return root


@pytest.mark.usefixtures("helm")
def test_local_chart_renders_with_values_and_labels(chart: Path) -> None:
    addon = UserAddon("greeter", chart=ChartSource(path=chart), values={"greeting": "hi; rm -rf /"})
    objs = objects(render_user_addon(addon))
    assert [o["kind"] for o in objs] == ["Namespace", "ConfigMap"]
    namespace, config = objs
    assert namespace["metadata"]["name"] == "greeter"  # the namespace defaults to the name
    assert config["metadata"]["name"] == "greeter-greeting"
    assert config["data"]["greeting"] == "hi; rm -rf /"  # data, never a shell word
    assert all(o["metadata"]["labels"][ADDON_LABEL] == "greeter" for o in objs)


@pytest.mark.usefixtures("helm")
def test_a_chart_error_names_the_add_on(chart: Path) -> None:
    (chart / "templates" / "bad.yaml").write_text('{{ fail "greeting is required" }}\n')
    with pytest.raises(InvalidInput, match=r"user add-on 'greeter'.*greeting is required"):
        render_user_addon(UserAddon("greeter", chart=ChartSource(path=chart)))


@pytest.mark.usefixtures("helm")
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "source",
    [
        ChartSource(repo="https://charts.invalid/stable", name="web", version="1.2.3"),
        ChartSource(oci="oci://registry.invalid/charts/web", version="1.2.3"),
    ],
)
def test_an_unreachable_chart_source_is_a_clear_error(source: ChartSource) -> None:
    with pytest.raises(OperationFailed, match=r"could not download chart|took more than") as err:
        render_user_addon(UserAddon("web", chart=source))
    assert "chart.path" in str(err.value)  # the way out: vendor the chart


def test_kustomize_directory_is_built(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\nnamePrefix: team-\n")
    (tmp_path / "cm.yaml").write_text(_configmap("settings"))
    objs = objects(render_user_addon(UserAddon("team", kustomize=tmp_path, namespace="apps")))
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("Namespace", "apps"),
        ("ConfigMap", "team-settings"),
    ]


def test_manifest_files_and_directories_in_order(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "b.yaml").write_text(_configmap("b"))
    (tmp_path / "dir" / "a.yml").write_text(_configmap("a") + "---\n" + _configmap("a2"))
    (tmp_path / "dir" / "notes.txt").write_text("not a manifest")
    (tmp_path / "first.json").write_text(
        '{"apiVersion": "v1", "kind": "List", "items": ['
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "z"}}]}'
    )
    addon = UserAddon(
        "files", manifests=(tmp_path / "first.json", tmp_path / "dir"), namespace="kube-system"
    )
    objs = objects(render_user_addon(addon))
    # kube-system is shared: used, never created (nor deleted on uninstall).
    assert [o["metadata"]["name"] for o in objs] == ["z", "a", "a2", "b"]


def test_a_manifest_object_without_a_name_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: x-}\n")
    with pytest.raises(
        InvalidInput, match=r"document 1: ConfigMap has no metadata\.name.*generateName"
    ):
        render_user_addon(UserAddon("bad", manifests=(bad,)))


def test_broken_yaml_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed\n")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        render_user_addon(UserAddon("bad", manifests=(bad,)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of chart, kustomize, manifests"),
        (
            {
                "chart": ChartSource(repo="https://x.invalid", name="a", version="1.0.0"),
                "manifests": (Path("."),),
            },
            "got chart and manifests",
        ),
        (
            {"chart": ChartSource(repo="https://x.invalid", name="a")},
            "needs an exact chart.version",
        ),
        ({"chart": ChartSource(repo="https://x.invalid", version="1.0.0")}, "needs chart.name"),
        (
            {"chart": ChartSource(repo="ftp://x", name="a", version="1")},
            "not a chart repository URL",
        ),
        (
            {"chart": ChartSource(oci="oci://x.invalid/c", name="c", version="1")},
            "already names the chart",
        ),
        ({"chart": ChartSource(oci="registry/c", version="1")}, "not an OCI reference"),
        ({"chart": ChartSource()}, "exactly one of path, repo"),
        ({"chart": ChartSource(path=Path("/nonexistent/chart"))}, "does not exist"),
        ({"kustomize": Path("/")}, "has no kustomization.yaml"),
        ({"manifests": (Path("/nonexistent.yaml"),)}, "does not exist"),
        ({"manifests": (Path("/"),), "values": {"a": 1}}, "values apply to charts only"),
        ({"manifests": (Path("/"),), "namespace": "Bad_NS"}, "not a DNS-1123 label"),
        ({"manifests": (Path("/"),), "depends_on": ("web",)}, "cannot depend on itself"),
    ],
)
def test_invalid_user_add_ons_say_what_to_fix(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match="user add-on 'web'") as err:
        UserAddon("web", **kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize("name", ["Web", "web_app", "-web", "a" * 54, ""])
def test_names_must_be_dns_labels(name: str) -> None:
    with pytest.raises(InvalidInput, match="DNS-1123"):
        UserAddon(name, manifests=(Path("/"),))


def test_from_document_reads_the_spec_section(tmp_path: Path, chart: Path) -> None:
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "kustomization.yaml").write_text("resources: []\n")
    doc = {
        "chart": {"path": str(chart.relative_to(tmp_path))},
        "values": {"greeting": "hey"},
        "namespace": "greet",
        "dependsOn": ["cert-manager"],
        "checks": ["there is 1 configmap named 'greeting'"],
    }
    addon = UserAddon.from_document("greeter", doc, base_dir=tmp_path)
    assert addon.chart == ChartSource(path=chart)
    assert addon.install_namespace == "greet"
    assert addon.depends_on == ("cert-manager",)
    assert addon.sentences == ("there is 1 configmap named 'greeting'",)
    remote = UserAddon.from_document(
        "web", {"chart": {"oci": "oci://r.invalid/c/web", "version": "1.0.0"}}
    )
    assert remote.chart == ChartSource(oci="oci://r.invalid/c/web", version="1.0.0")
    kz = UserAddon.from_document("kz", {"kustomize": {"path": "k"}}, base_dir=tmp_path)
    assert kz.kustomize == tmp_path / "k"
    with pytest.raises(InvalidInput, match="dependsOn must be a list of strings"):
        UserAddon.from_document(
            "kz", {"kustomize": {"path": "k"}, "dependsOn": "x"}, base_dir=tmp_path
        )
