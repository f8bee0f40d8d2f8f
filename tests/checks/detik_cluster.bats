#!/usr/bin/env bats
# The bash library against a real kwok cluster (run by test_detik_cluster.py,
# which exports KUBECONFIG, DETIK_TEST_KUBECTL, DETIK_TEST_NAMESPACE and
# CLUSTERFORGE_BIN, and has created pods web-0, web-1 and the service web).

load "$("${CLUSTERFORGE_BIN:-clusterforge}" detik-lib)"

DETIK_CLIENT_NAME="$DETIK_TEST_KUBECTL"
DETIK_CLIENT_NAMESPACE="$DETIK_TEST_NAMESPACE"

@test "counts" {
	run verify "there are 2 pods named '^web-'"
	[ "$status" -eq 0 ]
	run verify "there are 3 pods named '^web-'"
	[ "$status" -eq 3 ]
	[[ "$output" == *"found 2: web-0 (Running), web-1 (Running)"* ]]
}

@test "properties" {
	run verify "'status' is 'running' for pods named '^web-'"
	[ "$status" -eq 0 ]
	run verify "'port' is '80,443' for services named '^web$'"
	[ "$status" -eq 0 ]
	run verify "'targetPort' matches '^8080,8443$' for svc named 'web'"
	[ "$status" -eq 0 ]
	run verify "'status' is 'running' for pods named 'stuck'"
	[ "$status" -eq 3 ]
}

@test "retries" {
	run try "at most 10 times every 1s to find 2 pods named '^web-' with 'status' being 'running'"
	[ "$status" -eq 0 ]
	run try "at most 2 times every 1s to find 1 pods named 'stuck' with 'status' being 'running'"
	[ "$status" -eq 3 ]
}
