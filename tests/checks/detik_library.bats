#!/usr/bin/env bats
# clusterforge's DETIK bash library, used the way bats-detik is used.
# Run by test_detik_bats.py with CLUSTERFORGE_BIN and a stand-in client
# ($FAKE_KUBECTL, see fake_kubectl.py); the DETIK settings below are plain,
# unexported variables, as bats-detik's README writes them.

load "$("${CLUSTERFORGE_BIN:-clusterforge}" detik-lib)"

DETIK_CLIENT_NAME="$FAKE_KUBECTL"
DETIK_CLIENT_NAMESPACE="kube-system"

@test "verify: a count that holds" {
	run verify "there are 2 pods named 'metrics-server'"
	[ "$status" -eq 0 ]
	[[ "$output" == *"found 2 pods named 'metrics-server'"* ]]
}

@test "verify: a count that does not hold returns 3 and says what the cluster had" {
	run verify "there are 3 pods named 'metrics-server'"
	[ "$status" -eq 3 ]
	[[ "$output" == *"expected 3 pods named 'metrics-server' in namespace 'kube-system', found 2"* ]]
}

@test "verify: property checks, upper-case sentence" {
	run verify "'STATUS' IS 'running' FOR PODS NAMED 'metrics-server'"
	[ "$status" -eq 0 ]
	run verify "'status' is 'running' for pods named 'coredns'"
	[ "$status" -eq 3 ]
	[[ "$output" == *"coredns-5d78c9869d-pqrst is Pending"* ]]
}

@test "verify: a syntax error returns 2 and points at the word" {
	run verify "there are two pods named 'x'"
	[ "$status" -eq 2 ]
	[ "${lines[2]}" = "            ^ expected a number" ]
}

@test "verify: an empty sentence returns 1" {
	run verify ""
	[ "$status" -eq 1 ]
}

@test "verify refuses try sentences, try refuses verify sentences" {
	run verify "at most 2 times every 0s to find 2 pods named 'metrics' with 'status' being 'running'"
	[ "$status" -eq 2 ]
	run try "there are 2 pods named 'metrics-server'"
	[ "$status" -eq 2 ]
}

@test "try: find and get" {
	run try "at most 2 times every 0s to find 2 pods named 'metrics' with 'status' being 'running'"
	[ "$status" -eq 0 ]
	run try "at most 2 times every 0s to get pods named 'coredns' and verify that 'status' matches '^Running$'"
	[ "$status" -eq 3 ]
}

@test "try: the sentence split over several arguments, quotes doubled" {
	run try at most 2 times every 0s \
		to get pods named "'metrics'" \
		and verify that "'status'" is "'running'"
	[ "$status" -eq 0 ]
}

@test "the namespace variable can change inside a test" {
	DETIK_CLIENT_NAMESPACE="default"
	run verify "there are 3 pods named 'nginx'"
	[ "$status" -eq 0 ]
	DETIK_CLIENT_NAMESPACE=""
	DETIK_CLIENT_NAMESPACE_ALL="true"
	run verify "there are 7 pods named '-'"
	[ "$status" -eq 0 ]
}

@test "verify without run fails the test only when the check fails" {
	verify "there are 2 pods named 'metrics-server'"
}
