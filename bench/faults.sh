#!/usr/bin/env bash
# The fault battery: every fault issue 14 found, reproduced against real processes (the
# Graph emulator, a real Redis restarted empty, a real PostgreSQL cut off by a TCP
# forwarder, real SIGTERM and SIGKILL to a built graphgate binary), each printing its
# figures on a "FAULT <scenario>: key=value ..." line. The same tests run in `go test
# ./...`; this script runs only them, verbosely, and prints the figures.
#
#   bench/faults.sh
#
# Needs Redis (GRAPHGATE_TEST_REDIS, default redis://127.0.0.1:6379/0) with the
# redis-server binary, and PostgreSQL (GRAPHGATE_TEST_POSTGRES, default
# postgres://postgres@127.0.0.1:5432/test?sslmode=disable).
set -euo pipefail
cd "$(dirname "$0")/.."
export GRAPHGATE_TEST_REDIS="${GRAPHGATE_TEST_REDIS:-redis://127.0.0.1:6379/0}"
export GRAPHGATE_TEST_POSTGRES="${GRAPHGATE_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
run() { # package, test name pattern
	echo "== $1 -run '$2'" >&2
	go test "$1" -count=1 -v -run "$2" >>"$out" 2>&1 || { cat "$out" >&2; echo "faults: $1 failed" >&2; exit 1; }
}
run ./graph/ 'TestGate|TestRefusedTokenIsRenewed'
run ./proxy/ 'TestThrottledTenantAnswers429Promptly|TestLogoutSurvivesRedisRestart|TestRequestDeadline|TestBatchItemsShareTheBatchDeadline'
run ./proxy/auth/revoke/ 'TestRedisRestartWithoutPersistenceKeepsRevocations|TestRedisResyncRepairsAMissingMarker'
run ./cmd/graphgate/ 'TestUsageStoreFaults|TestShutdown|TestOversizedBodyIsAnsweredNotReset|TestLingeringCloseIsBounded'
grep -oE 'FAULT [a-z0-9_]+: .*' "$out" | sort
grep -E '^(--- FAIL|FAIL)' "$out" && exit 1
echo "faults: every scenario passed" >&2
