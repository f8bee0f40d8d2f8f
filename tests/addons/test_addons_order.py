"""install_order: dependency levels over the catalog and users' add-ons."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterforge.addons import CATALOG, UserAddon, install_order
from clusterforge.errors import InvalidInput


def _user(name: str, *deps: str, tmp: Path) -> UserAddon:
    manifest = tmp / f"{name}.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    return UserAddon(name, manifests=(manifest,), depends_on=deps)


def test_whole_catalog_installs_in_three_levels() -> None:
    assert install_order(CATALOG) == [
        ["coredns"],
        ["cert-manager", "fluent-bit", "metrics-server"],
        ["cluster-autoscaler", "ingress-nginx"],
    ]


def test_an_add_on_alone_needs_no_level_before_it() -> None:
    assert install_order(["ingress-nginx"]) == [["ingress-nginx"]]


def test_order_holds_through_an_add_on_not_asked_for() -> None:
    # ingress-nginx → cert-manager → coredns; cert-manager is not installed
    # (counts as satisfied) but CoreDNS still goes first.
    assert install_order(["ingress-nginx", "coredns"]) == [["coredns"], ["ingress-nginx"]]


def test_duplicates_and_input_order_do_not_matter() -> None:
    assert install_order(["metrics-server", "coredns", "metrics-server"]) == [
        ["coredns"],
        ["metrics-server"],
    ]


def test_nothing_asked_gives_no_levels() -> None:
    assert install_order([]) == []


def test_unknown_names_are_invalid_input_listing_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match=r"unknown add-ons 'istio', 'linkerd'.*coredns"):
        install_order(["coredns", "istio", "linkerd"])


def test_user_add_ons_order_after_their_dependencies(tmp_path: Path) -> None:
    web = _user("web", "ingress-nginx", "db", tmp=tmp_path)
    db = _user("db", tmp=tmp_path)
    levels = install_order(["web", "db", "ingress-nginx", "cert-manager"], user_addons=[web, db])
    assert levels == [["cert-manager", "db"], ["ingress-nginx"], ["web"]]


def test_a_cycle_is_named(tmp_path: Path) -> None:
    users = [
        _user("a", "b", tmp=tmp_path),
        _user("b", "c", tmp=tmp_path),
        _user("c", "a", tmp=tmp_path),
    ]
    with pytest.raises(InvalidInput, match="cycle") as err:
        install_order(["a"], user_addons=users)
    assert all(name in str(err.value) for name in "abc")


def test_a_cycle_through_an_add_on_not_asked_for_is_still_found(tmp_path: Path) -> None:
    users = [_user("a", "b", tmp=tmp_path), _user("b", "a", tmp=tmp_path)]
    with pytest.raises(InvalidInput, match="cycle"):
        install_order(["a"], user_addons=users)


def test_an_unknown_dependency_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="'web' depends on 'postgres'"):
        install_order(["web"], user_addons=[_user("web", "postgres", tmp=tmp_path)])


def test_a_user_add_on_cannot_shadow_a_catalog_one(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="same name as a catalog add-on"):
        install_order(["coredns"], user_addons=[_user("coredns", tmp=tmp_path)])


@st.composite
def _graphs(draw: st.DrawFn) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """A random DAG of user add-ons (edges only to earlier ones or the catalog) and a request."""
    count = draw(st.integers(min_value=0, max_value=8))
    names = [f"u{i}" for i in range(count)]
    graph: dict[str, tuple[str, ...]] = {}
    for i, name in enumerate(names):
        pool = sorted(CATALOG) + names[:i]
        graph[name] = tuple(draw(st.lists(st.sampled_from(pool), unique=True, max_size=3)))
    everything = sorted(CATALOG) + names
    wanted = draw(st.lists(st.sampled_from(everything), unique=True, min_size=1))
    return graph, wanted


@settings(max_examples=60, deadline=None)
@given(case=_graphs())
def test_levels_are_a_longest_path_layering(
    case: tuple[dict[str, tuple[str, ...]], list[str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    graph, wanted = case
    tmp = tmp_path_factory.mktemp("order")
    users = [_user(name, *deps, tmp=tmp) for name, deps in graph.items()]
    levels = install_order(wanted, user_addons=users)
    full = {**{n: a.depends_on for n, a in CATALOG.items()}, **graph}

    def below(name: str) -> set[str]:
        found: set[str] = set()
        for dep in full[name]:
            found |= {dep} | below(dep)
        return found

    level_of = {name: i for i, level in enumerate(levels) for name in level}
    assert sorted(level_of) == sorted(wanted)  # each wanted add-on exactly once
    assert sum(len(level) for level in levels) == len(wanted)
    for level in levels:
        assert level == sorted(level)
    for name in wanted:
        deps = below(name) & set(wanted)
        for dep in deps:
            assert level_of[dep] < level_of[name]
        # As early as possible: level 0, or right after its latest dependency.
        expected = 1 + max((level_of[d] for d in deps), default=-1)
        assert level_of[name] == expected
