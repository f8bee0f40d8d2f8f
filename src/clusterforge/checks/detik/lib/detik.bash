#!/usr/bin/env bash
# clusterforge's DETIK functions for bats.
#
#   load "$(clusterforge detik-lib)"
#
#   @test "metrics-server is up" {
#     run verify "there are 2 pods named 'metrics-server'"
#     [ "$status" -eq 0 ]
#     run try "at most 5 times every 30s to find 2 pods named 'metrics-server' with 'status' being 'running'"
#     [ "$status" -eq 0 ]
#   }
#
# verify and try behave like bats-detik's: the words are joined into one
# sentence, the output says what was expected and what the cluster had, and
# the return code is 0 (ok), 1 (empty sentence), 2 (syntax error) or 3 (the
# check failed). The sentence is evaluated by `clusterforge detik`, found via
# $CLUSTERFORGE_BIN or on PATH; if neither exists the functions return 127.
#
# The bats-detik settings work as plain (unexported) variables in the .bats
# file, as they do with bats-detik: DETIK_CLIENT_NAME, DETIK_CLIENT_NAMESPACE,
# DETIK_CLIENT_NAMESPACE_ALL, DETIK_REGEX_CASE_INSENSITIVE_PROPERTIES (and its
# README spelling DETIK_CASE_INSENSITIVE_PROPERTIES). KUBECONFIG is read from
# the environment by kubectl itself.

_clusterforge_detik() {
	local keyword="$1"
	shift
	local bin="${CLUSTERFORGE_BIN:-clusterforge}"
	if ! command -v "$bin" >/dev/null 2>&1; then
		echo "clusterforge DETIK library: cannot run '$bin'; put clusterforge on PATH or set CLUSTERFORGE_BIN" >&2
		return 127
	fi
	DETIK_CLIENT_NAME="${DETIK_CLIENT_NAME:-}" \
	DETIK_CLIENT_NAMESPACE="${DETIK_CLIENT_NAMESPACE:-}" \
	DETIK_CLIENT_NAMESPACE_ALL="${DETIK_CLIENT_NAMESPACE_ALL:-}" \
	DETIK_REGEX_CASE_INSENSITIVE_PROPERTIES="${DETIK_REGEX_CASE_INSENSITIVE_PROPERTIES:-}" \
	DETIK_CASE_INSENSITIVE_PROPERTIES="${DETIK_CASE_INSENSITIVE_PROPERTIES:-}" \
		"$bin" detik --keyword "$keyword" -- "$@"
}

# verify "<sentence>": one check, no retry.
verify() {
	_clusterforge_detik verify "$@"
}

# try "at most <N> times every <N>s to …": the check, retried.
try() {
	_clusterforge_detik try "$@"
}
