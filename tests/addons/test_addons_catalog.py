"""The catalog's declarations: six add-ons, their namespaces, dependencies and checks."""

from __future__ import annotations

import glob
import tomllib
from pathlib import Path

import pytest

import clusterforge.addons as addons
from clusterforge.addons import CATALOG, checks
from clusterforge.checks.detik import FindSentence, parse
from clusterforge.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]


def test_public_surface_is_exactly_all() -> None:
    public = {name for name in vars(addons) if not name.startswith("_")}
    assert public - {"annotations"} == set(addons.__all__)


def test_catalog_has_the_six_add_ons_platform_teams_install() -> None:
    assert set(CATALOG) == {
        "coredns",
        "metrics-server",
        "cluster-autoscaler",
        "fluent-bit",
        "ingress-nginx",
        "cert-manager",
    }


def test_dependencies_are_the_documented_ones() -> None:
    assert {name: a.depends_on for name, a in CATALOG.items()} == {
        "coredns": (),
        "metrics-server": ("coredns",),
        "cert-manager": ("coredns",),
        "fluent-bit": ("coredns",),
        "ingress-nginx": ("cert-manager",),
        "cluster-autoscaler": ("metrics-server",),
    }


def test_each_add_on_is_a_chart_of_its_own_name_with_defaults_from_values_yaml() -> None:
    for name, addon in CATALOG.items():
        assert addon.name == name
        assert (addon.chart / "Chart.yaml").is_file()
        assert addon.chart.name == name
        assert "registry" in addon.default_values["global"]
        assert addon.version, name
        assert addon.namespace


def test_default_values_cannot_be_changed_through_the_catalog() -> None:
    values = CATALOG["coredns"].default_values
    with pytest.raises(TypeError):
        values["replicas"] = 5  # type: ignore[index]


def test_every_sentence_is_valid_detik() -> None:
    for addon in CATALOG.values():
        assert addon.sentences, addon.name
        for sentence in addon.sentences:
            parse(sentence)


def test_pod_sentences_expect_the_default_replicas() -> None:
    found = {
        s.selector.name: s.count
        for s in (parse(text) for text in CATALOG["coredns"].sentences)
        if isinstance(s, FindSentence)
    }
    assert found == {"^coredns-": 2}


def test_checks_follow_the_values() -> None:
    sentences = checks("coredns", {"replicas": 3, "service": {"name": "cluster-dns"}})
    assert any("find 3 pods named '^coredns-'" in s for s in sentences)
    assert any("service named '^cluster-dns$'" in s for s in sentences)
    assert checks("coredns") == CATALOG["coredns"].sentences


def test_checks_cover_optional_parts_only_when_enabled() -> None:
    assert not any("apiservice" in s for s in checks("metrics-server"))
    assert any(
        "apiservice" in s for s in checks("metrics-server", {"apiService": {"create": True}})
    )
    assert not any("webhook" in s for s in checks("cert-manager"))
    assert any("webhook" in s for s in checks("cert-manager", {"webhook": {"enabled": True}}))
    assert not any(
        "customresourcedefinitions" in s
        for s in checks("cert-manager", {"crds": {"enabled": False}})
    )


def test_checks_of_an_unknown_add_on_name_the_catalog() -> None:
    with pytest.raises(InvalidInput, match=r"not a catalog add-on.*coredns"):
        checks("istio")


def test_checks_refuse_values_of_the_wrong_type() -> None:
    with pytest.raises(InvalidInput, match="values"):
        checks("coredns", {"replicas": "many"})


def test_every_chart_file_is_shipped_as_package_data() -> None:
    """The pyproject package-data globs cover every file of every chart (incl. _helpers.tpl)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["*"]
    package = ROOT / "src" / "clusterforge" / "addons"
    shipped = {
        Path(match)
        for pattern in patterns
        for match in glob.glob(pattern, root_dir=package, recursive=True)
    }
    chart_files = {
        path.relative_to(package)
        for path in (package / "charts").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert chart_files, "no chart files found"
    assert chart_files - shipped == set()
    assert any(p.name == "_helpers.tpl" for p in chart_files)
