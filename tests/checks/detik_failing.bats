#!/usr/bin/env bats
# Tests that fail the way bats-detik tests fail; test_detik_bats.py checks
# that bats reports them as failed, with clusterforge's message.

load "$("${CLUSTERFORGE_BIN:-clusterforge}" detik-lib)"

DETIK_CLIENT_NAME="$FAKE_KUBECTL"
DETIK_CLIENT_NAMESPACE="kube-system"

@test "holds" {
	run verify "there are 2 pods named 'metrics-server'"
	[ "$status" -eq 0 ]
}

@test "a wrong count, called directly" {
	verify "there are 3 pods named 'metrics-server'"
}

@test "a try that never holds, checked through run" {
	run try "at most 2 times every 0s to find 2 pods named 'coredns' with 'status' being 'running'"
	echo "$output"
	[ "$status" -eq 0 ]
}
