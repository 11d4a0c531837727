#!/usr/bin/env bash
# The go test of make test: every package, with the end-to-end package
# (test/e2e: mostly waiting for a real cluster's pods) in a go test of its own
# started first, beside the others. In one go test ./... it started only once
# about 9 minutes of compiling the other packages' tests had gone by, behind
# go test's limit of -p (2 here) packages at a time, and then ran alone for
# most of its 13-19 minutes. Its output follows the others'. Exits non-zero
# when either failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

e2e_log="$(mktemp)"
go test ./test/e2e/... -count=1 -timeout 45m >"${e2e_log}" 2>&1 &
e2e=$!
# Without job control the background go test ignores the terminal's SIGINT:
# stop it (and the test binary it runs) with the rest.
stop_e2e() {
  pkill -TERM -P "${e2e}" 2>/dev/null
  kill -TERM "${e2e}" 2>/dev/null
}
trap 'stop_e2e; rm -f "${e2e_log}"; exit 130' INT TERM
trap 'rm -f "${e2e_log}"' EXIT

mapfile -t others < <(go list ./... | grep -v '/test/e2e$')
go test "${others[@]}" -count=1 -timeout 45m -coverprofile cover.out
rc=$?
wait "${e2e}"
e2e_rc=$?
cat "${e2e_log}"
((rc == 0 && e2e_rc == 0))
