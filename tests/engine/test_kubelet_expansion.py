"""The kubelet's ``$(VAR)`` expansion (k8s.io/kubernetes third_party/forked/golang/expansion,
used by ``ExpandContainerCommandAndArgs`` and ``makeEnvironmentVariables``): its
cases one by one, a property against a reference built from tokens, and the argv
the Argo host executor gives a step pod (it stands in for the kubelet there).
Running containers with it is the conformance case ``kubelet-expansion``."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clusterforge.engine.argo._pod import read_pod
from clusterforge.engine.local.kubelet_expansion import expand, expand_all

VARS = {"GREETING": "hello", "EMPTY": "", "DOLLAR": "$(GREETING)"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(GREETING)", "hello"),
        ("say $(GREETING), $(GREETING)!", "say hello, hello!"),
        ("[$(EMPTY)]", "[]"),  # defined and empty: replaced by nothing
        ("$(UNDEFINED)", "$(UNDEFINED)"),  # undefined: left as written
        ("$$(GREETING)", "$(GREETING)"),  # escaped
        ("$$$(GREETING)", "$hello"),
        ("$$$$", "$$"),
        ("$$", "$"),
        ("$", "$"),  # a $ at the end
        ("a$", "a$"),
        ("$GREETING", "$GREETING"),  # not a reference: as is (no shell syntax)
        ("${GREETING}", "${GREETING}"),
        ("$(GREETING", "$(GREETING"),  # never closed
        ("$(GREETING $(GREETING)", "$(GREETING $(GREETING)"),  # name up to the first ')'
        ("$()", "$()"),
        ("$(DOLLAR)", "$(GREETING)"),  # a value is not expanded again
        ("$(echo x; rm -rf /)", "$(echo x; rm -rf /)"),
        ("no references", "no references"),
    ],
)
def test_expansion_cases(text: str, expected: str) -> None:
    assert expand(text, VARS) == expected


_NAME = st.text(alphabet="AB_1$( ", max_size=4)
_LITERAL = st.text(alphabet="ab ()_{}\\;", max_size=4)
_TOKEN = st.one_of(
    st.tuples(st.just("literal"), _LITERAL),
    st.tuples(st.just("reference"), _NAME),
    st.tuples(st.just("escape"), st.just("")),
    st.tuples(st.just("bare"), st.sampled_from("aZ{ ")),  # $ and a character that opens nothing
)


def _render(tokens: list[tuple[str, str]], variables: dict[str, str]) -> tuple[str, str]:
    """The text a person would write and what the kubelet makes of it, token by token."""
    text, expected = [], []
    for kind, value in tokens:
        if kind == "literal":
            text.append(value)
            expected.append(value)
        elif kind == "reference":
            text.append(f"$({value})")
            expected.append(variables.get(value, f"$({value})"))
        elif kind == "escape":
            text.append("$$")
            expected.append("$")
        else:
            text.append(f"${value}")
            expected.append(f"${value}")
    return "".join(text), "".join(expected)


@given(
    st.lists(_TOKEN, max_size=8),
    st.dictionaries(_NAME, st.text(alphabet="x$()", max_size=3), max_size=4),
)
def test_expansion_matches_the_token_reference(
    tokens: list[tuple[str, str]], variables: dict[str, str]
) -> None:
    text, expected = _render(tokens, variables)
    assert expand(text, variables) == expected


@given(st.text(max_size=20), st.dictionaries(st.text(max_size=3), st.text(max_size=3)))
def test_every_dollar_escaped_is_the_text_itself(text: str, variables: dict[str, str]) -> None:
    assert expand(text.replace("$", "$$"), variables) == text


def test_expand_all_keeps_each_argument_apart() -> None:
    assert expand_all(["$(GREETING) world", "$(EMPTY)", "x"], VARS) == ["hello world", "", "x"]


def test_the_argo_host_executor_expands_the_main_containers_command_and_args() -> None:
    template = {"name": "t", "container": {"image": "alpine", "command": ["printf"]}}
    pod = {
        "metadata": {
            "name": "wf-t-1",
            "namespace": "default",
            "ownerReferences": [{"kind": "Workflow", "uid": "wf-uid"}],
        },
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "command": ["/var/run/argo/argoexec", "emissary", "--", "$(PROG)"],
                    "args": ["%s|", "$(WHO)", "$$(WHO)", "$(NOPE)"],
                    "env": [
                        {"name": "ARGO_TEMPLATE", "value": json.dumps(template)},
                        {"name": "PROG", "value": "printf"},
                        {"name": "NAME", "value": "world"},
                        {"name": "WHO", "value": "hello $(NAME)"},
                    ],
                }
            ]
        },
    }
    step = read_pod(pod)
    assert step.argv == ["printf", "%s|", "hello world", "$(WHO)", "$(NOPE)"]
    assert step.env["WHO"] == "hello world"
