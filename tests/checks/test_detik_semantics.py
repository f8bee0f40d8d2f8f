"""DETIK semantics: every grammar form, passing and failing, and the exit codes.

kubectl is substituted through ``DETIK_CLIENT_NAME`` by fake_kubectl.py, a
real subprocess printing canned custom-columns tables from
fixtures/cluster.json — the same technique bats-detik's own test-suite uses
(a stub client echoing a table). It lets the semantics be pinned exactly; the
same sentences run against a real kwok cluster in test_detik_cluster.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from detik_fake import CLUSTER, FakeCluster

from clusterforge.checks import detik
from clusterforge.checks.detik import DetikResult, ExitCode
from clusterforge.errors import InvalidInput


def check(fake: FakeCluster, sentence: str, **kwargs: object) -> DetikResult:
    kwargs.setdefault("namespace", "kube-system")
    kwargs.setdefault("sleep", lambda seconds: None)
    return detik.verify(sentence, env=fake.env, **kwargs)  # type: ignore[arg-type]


def expect(result: DetikResult, code: ExitCode, *fragments: str) -> None:
    assert result.exit_code is code, result.describe()
    assert result.ok is (code is ExitCode.OK)
    for fragment in fragments:
        assert fragment in result.message, f"{fragment!r} not in {result.message!r}"


# --- verify: counting -------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "code", "fragments"),
    [
        ("there are 2 pods named 'metrics-server'", ExitCode.OK, ["found 2 pods"]),
        (
            "there are 3 pods named 'metrics-server'",
            ExitCode.FAILED,
            [
                "expected 3 pods named 'metrics-server' in namespace 'kube-system', found 2: ",
                "metrics-server-6d94bc8694-abcde (Running)",
            ],
        ),
        ("there is 1 pod named 'coredns-5d78c9869d-pqrst'", ExitCode.OK, ["found 1 pod"]),
        (
            "there is 1 pod named 'coredns'",
            ExitCode.FAILED,
            ["found 2: coredns-5d78c9869d-klmno (Running), coredns-5d78c9869d-pqrst (Pending)"],
        ),
        ("there is 0 pod named 'nginx'", ExitCode.OK, ["found 0"]),
        ("there are 2 pods named 'nginx'", ExitCode.FAILED, ["found 0"]),
        ("there are less than 3 pods named 'coredns'", ExitCode.OK, ["less than 3"]),
        ("there are less than 2 pods named 'coredns'", ExitCode.FAILED, ["expected less than 2"]),
        ("there are more than 1 pods named 'coredns'", ExitCode.OK, ["more than 1"]),
        ("there are more than 2 pods named 'coredns'", ExitCode.FAILED, ["expected more than 2"]),
        # case-insensitive sentence, lower-cased type
        ("THERE ARE 2 PODS NAMED 'metrics-server'", ExitCode.OK, ["found 2 pods"]),
        # names: unanchored ERE, case-sensitive
        ("there are 2 pods named 'server'", ExitCode.OK, []),
        ("there are 0 pods named '^server'", ExitCode.OK, []),
        ("there are 0 pods named 'METRICS'", ExitCode.OK, []),
        (
            "there are 2 pods named '^metrics-server-[a-z0-9]{9,10}-[a-z0-9]{5}$'",
            ExitCode.OK,
            [],
        ),
        ("there are 4 pods named '^(coredns|metrics)-'", ExitCode.OK, []),
        ("there are 2 pods named 'metrics[[:punct:]]server'", ExitCode.OK, []),
        # types with dots (CRDs), cluster-scoped resources
        ("there is 1 settings.management.cattle.io named 'server-url'", ExitCode.OK, []),
    ],
)
def test_count(fake: FakeCluster, sentence: str, code: ExitCode, fragments: list[str]) -> None:
    result = check(fake, sentence)
    expect(result, code, *fragments)
    assert result.keyword == "verify"
    assert result.attempts == 1


def test_count_runs_detiks_query(fake: FakeCluster) -> None:
    result = check(fake, "There are 2 PODS named 'metrics-server'")
    assert fake.calls() == [
        ["get", "pods", "-o", "custom-columns=NAME:.metadata.name", "--namespace=kube-system"]
    ]
    assert result.command[-5:] == tuple(fake.calls()[0])


def test_a_failed_count_also_asks_for_the_status_to_explain_itself(fake: FakeCluster) -> None:
    check(fake, "there are 3 pods named 'coredns'")
    assert [call[3] for call in fake.calls()] == [
        "custom-columns=NAME:.metadata.name",
        "custom-columns=NAME:.metadata.name,PROP:.status.phase",
    ]


# --- verify: properties -----------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "code", "fragments"),
    [
        ("'status' is 'running' for pods named 'metrics-server'", ExitCode.OK, ["all 2 pods"]),
        ("'status' is 'RUNNING' for pods named 'metrics-server'", ExitCode.OK, []),
        (
            "'status' is 'running' for pods named 'coredns'",
            ExitCode.FAILED,
            [
                "expected 'status' to be 'running' (ignoring case) for every pods named 'coredns'",
                "1 of 2 do not: coredns-5d78c9869d-pqrst is Pending",
            ],
        ),
        # zero matching items fails with 3 — DETIK's verify_value returns 102
        (
            "'status' is 'running' for pods named 'nginx'",
            ExitCode.FAILED,
            ["found no pods named 'nginx'"],
        ),
        ("'status' matches '^Run' for pods named 'metrics'", ExitCode.OK, []),
        # matches is case-sensitive
        ("'status' matches '^run' for pods named 'metrics'", ExitCode.FAILED, ["is Running"]),
        ("'status' matches 'Running|Pending' for pods named 'coredns'", ExitCode.OK, []),
        ("'port' is '443' for services named 'metrics-server'", ExitCode.OK, []),
        ("'targetPort' is 'HTTPS' for services named 'metrics'", ExitCode.OK, []),
        ("'port' is '80' for services named 'metrics-server'", ExitCode.FAILED, ["is 443"]),
        (
            "'.spec.containers[*].image' matches ':v0[.]7[.][[:digit:]]+$' "
            "for pods named 'metrics'",
            ExitCode.OK,
            [],
        ),
        ("'.status.readyReplicas' is '2' for deployments named 'coredns'", ExitCode.FAILED, []),
        ("'.status.readyReplicas' is '2' for deploy named 'metrics'", ExitCode.OK, []),
    ],
)
def test_property(fake: FakeCluster, sentence: str, code: ExitCode, fragments: list[str]) -> None:
    expect(check(fake, sentence), code, *fragments)


@pytest.mark.parametrize(
    ("prop", "column"),
    [
        ("status", ".status.phase"),
        ("STATUS", ".status.phase"),
        ("port", ".spec.ports[*].port"),
        ("targetPort", ".spec.ports[*].targetPort"),
        ("targetport", ".spec.ports[*].targetPort"),
        (".status.replicas", ".status.replicas"),
        # passed as written, like DETIK; kubectl adds the leading dot itself
        ("status.replicas", "status.replicas"),
    ],
)
def test_property_aliases_and_columns(fake: FakeCluster, prop: str, column: str) -> None:
    check(fake, f"'{prop}' matches '.' for deployments named 'metrics'")
    assert fake.calls()[0][3] == f"custom-columns=NAME:.metadata.name,PROP:{column}"


def test_value_with_spaces_is_compared_whole(fake: FakeCluster) -> None:
    expect(
        check(
            fake,
            "'.data.cert' is '----BEGIN CERTIFICATE----' for configmaps named 'cert2'",
            namespace="default",
        ),
        ExitCode.OK,
    )


def test_regex_case_folding_switch(fake: FakeCluster) -> None:
    sentence = "'status' matches '^running$' for pods named 'metrics'"
    expect(check(fake, sentence), ExitCode.FAILED)
    for name in ("DETIK_REGEX_CASE_INSENSITIVE_PROPERTIES", "DETIK_CASE_INSENSITIVE_PROPERTIES"):
        fake.env[name] = "true"
        expect(check(fake, sentence), ExitCode.OK)
        del fake.env[name]


# --- try: get … and verify that … ------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "code", "fragments"),
    [
        (
            "at most 3 times every 5s to get pods named 'metrics' and verify that 'status' is "
            "'running'",
            ExitCode.OK,
            [],
        ),
        (
            "at most 3 times every 5s to get pods named 'coredns' and verify that 'status' is "
            "'running'",
            ExitCode.FAILED,
            ["coredns-5d78c9869d-pqrst is Pending"],
        ),
        (
            "at most 2 times every 5s to get pods named 'coredns' and verify that 'status' "
            "matches '^(Running|Pending)$'",
            ExitCode.OK,
            [],
        ),
        (
            "at most 2 times every 5s to get pods named 'coredns' and verify that 'status' "
            "matches '^Running$'",
            ExitCode.FAILED,
            [],
        ),
        (
            "at most 2 times every 5s to get deployments named 'metrics' and verify that "
            "'status.readyReplicas' is more than '1'",
            ExitCode.OK,
            [],
        ),
        (
            "at most 2 times every 5s to get deployments named 'coredns' and verify that "
            "'status.readyReplicas' is more than '1'",
            ExitCode.FAILED,
            ["coredns is 1, not more than 1"],
        ),
        (
            "at most 2 times every 5s to get deployments named 'coredns' and verify that "
            "'.status.readyReplicas' is less than '2'",
            ExitCode.OK,
            [],
        ),
        (
            "at most 2 times every 5s to get deployments named 'metrics' and verify that "
            "'.status.readyReplicas' is less than '2'",
            ExitCode.FAILED,
            ["not less than 2"],
        ),
        (
            "at most 2 times every 5s to get deployments named 'autoscaler' and verify that "
            "'.status.readyReplicas' is less than '5'",
            ExitCode.FAILED,
            ["is <none>, not a whole number"],
        ),
        (
            "at most 2 times every 5s to get pods named 'nothing' and verify that 'status' is "
            "'running'",
            ExitCode.FAILED,
            ["found no pods named 'nothing'"],
        ),
    ],
)
def test_try_get(fake: FakeCluster, sentence: str, code: ExitCode, fragments: list[str]) -> None:
    sleeps: list[float] = []
    result = check(fake, sentence, sleep=sleeps.append)
    expect(result, code, *fragments)
    assert result.keyword == "try"
    times = int(sentence.split()[2])
    assert result.attempts == (1 if result.ok else times)
    assert len(fake.calls()) == result.attempts
    assert sleeps == [5.0] * (result.attempts - 1)


# --- try: find N … with … ---------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "code", "fragments"),
    [
        (
            "at most 1 times every 5s to find 2 pods named 'metrics' with 'status' being 'running'",
            ExitCode.OK,
            ["as expected"],
        ),
        # exactly N: two pass, one expected (bats-detik's own test case)
        (
            "at most 1 times every 5s to find 1 pods named 'metrics' with 'status' being 'running'",
            ExitCode.FAILED,
            ["found 2: metrics-server-6d94bc8694-abcde (Running)"],
        ),
        # only passing items count; the Pending one does not matter
        (
            "at most 1 times every 5s to find 1 pod named 'coredns' with 'status' being 'running'",
            ExitCode.OK,
            [],
        ),
        (
            "at most 1 times every 5s to find 2 pods named 'coredns' with 'status' being 'running'",
            ExitCode.FAILED,
            ["found 1: coredns-5d78c9869d-klmno (Running)", "coredns-5d78c9869d-pqrst (Pending)"],
        ),
        (
            "at most 1 times every 5s to find 0 pods named 'nothing' with 'status' being 'running'",
            ExitCode.OK,
            [],
        ),
        (
            "at most 1 times every 5s to find 1 pods named 'coredns' with 'status' matching "
            "'^Pend'",
            ExitCode.OK,
            [],
        ),
        (
            "at most 1 times every 5s to find 2 pods named 'coredns' with 'status' matching "
            "'^pend'",
            ExitCode.FAILED,
            ["found 0"],
        ),
        (
            "at most 1 times every 5s to find 1 configmap named 'cert' with '.data.cert' "
            "matching 'BEGIN CERT'",
            ExitCode.OK,
            [],
        ),
    ],
)
def test_try_find(fake: FakeCluster, sentence: str, code: ExitCode, fragments: list[str]) -> None:
    namespace = "default" if "configmap" in sentence else "kube-system"
    expect(check(fake, sentence, namespace=namespace), code, *fragments)


def test_try_retries_until_the_cluster_catches_up(fake: FakeCluster) -> None:
    def pods(*phases: str) -> dict[str, object]:
        items = [
            {"namespace": "default", "name": f"web-{i}", "props": {".status.phase": phase}}
            for i, phase in enumerate(phases)
        ]
        return {"resources": {"pods": items}}

    fake.load(pods("Pending", "Pending"), pods("Running", "Pending"), pods("Running", "Running"))
    sleeps: list[float] = []
    attempts: list[detik.Attempt] = []
    result = check(
        fake,
        "at most 5 times every 7s to find 2 pods named 'web' with 'status' being 'running'",
        namespace="default",
        sleep=sleeps.append,
        on_attempt=attempts.append,
    )
    expect(result, ExitCode.OK)
    assert result.attempts == 3
    assert sleeps == [7.0, 7.0]
    assert [(a.number, a.ok) for a in attempts] == [(1, False), (2, False), (3, True)]
    assert "found 1: web-0 (Running)" in attempts[1].message


def test_try_reports_the_last_attempt(fake: FakeCluster) -> None:
    fake.load(
        {"resources": {"pods": []}},
        {"resources": {"pods": [{"name": "web-0", "props": {".status.phase": "Failed"}}]}},
    )
    result = check(
        fake,
        "at most 3 times every 1s to get pods named 'web' and verify that 'status' is 'running'",
    )
    expect(result, ExitCode.FAILED, "web-0 is Failed")
    assert result.attempts == 3
    assert "gave up after 3 attempts" in result.describe()


# --- exit codes 1 and 3 around the client -----------------------------------


@pytest.mark.parametrize("sentence", ["", "   ", "\n\t"])
def test_empty_sentence_is_exit_code_1(fake: FakeCluster, sentence: str) -> None:
    result = check(fake, sentence)
    expect(result, ExitCode.EMPTY, "empty sentence")
    assert fake.calls() == []


def test_syntax_error_is_exit_code_2_and_never_queries(fake: FakeCluster) -> None:
    result = check(fake, "there are two pods named 'x'")
    expect(result, ExitCode.SYNTAX, "expected a number")
    assert result.keyword is None
    assert fake.calls() == []


def test_client_failure_is_exit_code_3_even_for_zero_counts(fake: FakeCluster) -> None:
    # Deliberately stricter than bats-detik, which would count 0 and pass.
    fake.load({"error": "E1128 12:00:00.000000 1 x.go:1] noise\nUnable to connect to the server"})
    result = check(fake, "there are 0 pods named 'x'")
    expect(result, ExitCode.FAILED, "failed (exit 1): Unable to connect to the server")


def test_unknown_resource_type_is_exit_code_3(fake: FakeCluster) -> None:
    result = check(fake, "there are 0 frobs named 'x'")
    expect(result, ExitCode.FAILED, 'doesn\'t have a resource type "frobs"')


def test_client_errors_are_retried(fake: FakeCluster) -> None:
    fake.load({"error": "connection refused"}, {"resources": CLUSTER})
    result = check(
        fake,
        "at most 2 times every 1s to find 2 pods named 'metrics' with 'status' being 'running'",
    )
    expect(result, ExitCode.OK)
    assert result.attempts == 2


def test_missing_client_stops_the_loop(fake: FakeCluster, tmp_path: Path) -> None:
    result = check(
        fake,
        "at most 5 times every 1s to find 2 pods named 'metrics' with 'status' being 'running'",
        client=str(tmp_path / "no-such-kubectl"),
    )
    expect(result, ExitCode.FAILED, "cannot run the Kubernetes client")
    assert result.attempts == 1


# --- namespaces, kubeconfig, client -----------------------------------------


def test_namespace_from_environment(fake: FakeCluster) -> None:
    fake.env["DETIK_CLIENT_NAMESPACE"] = "default"
    expect(check(fake, "there are 3 pods named 'nginx'", namespace=None), ExitCode.OK)
    assert fake.calls()[0][-1] == "--namespace=default"


def test_all_namespaces_from_environment(fake: FakeCluster) -> None:
    fake.env["DETIK_CLIENT_NAMESPACE_ALL"] = "true"
    result = check(fake, "there are 7 pods named '-'", namespace=None)
    expect(result, ExitCode.OK, "in all namespaces")
    assert fake.calls()[0][-1] == "--all-namespaces"


def test_namespace_beats_all_namespaces_in_the_environment(fake: FakeCluster) -> None:
    # DETIK: DETIK_CLIENT_NAMESPACE is checked before DETIK_CLIENT_NAMESPACE_ALL.
    fake.env["DETIK_CLIENT_NAMESPACE"] = "kube-system"
    fake.env["DETIK_CLIENT_NAMESPACE_ALL"] = "true"
    check(fake, "there are 4 pods named '-'", namespace=None)
    assert fake.calls()[0][-1] == "--namespace=kube-system"


def test_arguments_beat_the_environment(fake: FakeCluster) -> None:
    fake.env["DETIK_CLIENT_NAMESPACE"] = "kube-system"
    check(fake, "there are 3 pods named 'nginx'", namespace=None, all_namespaces=True)
    check(fake, "there are 3 pods named 'nginx'", namespace="default")
    assert [call[-1] for call in fake.calls()] == ["--all-namespaces", "--namespace=default"]


def test_no_namespace_leaves_kubectl_to_its_default(fake: FakeCluster) -> None:
    expect(check(fake, "there are 3 pods named 'nginx'", namespace=None), ExitCode.OK)
    assert fake.calls()[0] == ["get", "pods", "-o", "custom-columns=NAME:.metadata.name"]


def test_both_namespace_and_all_namespaces_is_a_usage_error(fake: FakeCluster) -> None:
    with pytest.raises(InvalidInput, match="choose one"):
        check(fake, "there are 3 pods named 'nginx'", all_namespaces=True)


def test_kubeconfig_is_passed_to_the_client(fake: FakeCluster, tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text("apiVersion: v1\nkind: Config\n")
    check(fake, "there are 2 pods named 'metrics'", kubeconfig=config)
    assert fake.calls()[0][-1] == f"--kubeconfig={config}"


def test_missing_kubeconfig_is_a_usage_error(fake: FakeCluster, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        check(fake, "there are 2 pods named 'metrics'", kubeconfig=tmp_path / "nope")


def test_client_given_as_an_argument(fake: FakeCluster) -> None:
    client = fake.env.pop("DETIK_CLIENT_NAME")
    expect(check(fake, "there are 2 pods named 'metrics'", client=client), ExitCode.OK)


# --- results for reports and pytest ----------------------------------------


def test_result_is_plain_data(fake: FakeCluster) -> None:
    result = check(fake, "there are 2 pods named 'metrics-server'")
    data = json.loads(json.dumps(result.to_dict()))
    assert data["sentence"] == "there are 2 pods named 'metrics-server'"
    assert data["ok"] is True
    assert data["exit_code"] == 0
    assert data["attempts"] == 1
    assert data["keyword"] == "verify"
    assert data["details"] == ["metrics-server-6d94bc8694-abcde", "metrics-server-6d94bc8694-fghij"]


def test_assert_sentence_raises_a_readable_assertion(fake: FakeCluster) -> None:
    with pytest.raises(AssertionError) as caught:
        detik.assert_sentence(
            "there are 3 pods named 'metrics-server'", namespace="kube-system", env=fake.env
        )
    assert str(caught.value).splitlines() == [
        "failed: \"there are 3 pods named 'metrics-server'\"",
        "  expected 3 pods named 'metrics-server' in namespace 'kube-system', found 2: "
        "metrics-server-6d94bc8694-abcde (Running), metrics-server-6d94bc8694-fghij (Running)",
    ]


def test_assert_sentence_returns_the_result_when_it_holds(fake: FakeCluster) -> None:
    result = detik.assert_sentence(
        "there are 2 pods named 'metrics-server'", namespace="kube-system", env=fake.env
    )
    assert result.ok


def test_assert_sentence_reports_syntax_errors(fake: FakeCluster) -> None:
    with pytest.raises(AssertionError, match=r"\^ expected a number"):
        detik.assert_sentence("there are two pods named 'x'", env=fake.env)
