#!/usr/bin/env bash
# tests/scripts/skip-report.sh SKIP_REPORT: scripts/skip-report against a
# ctest JUnit file with two skips: counted and grouped, an allowed skip passes
# under --strict, one that no entry allows fails it, and an entry without its
# reason is refused. Exits non-zero on the first wrong answer.
set -uo pipefail
report=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
junit=$here/skip-report-junit.xml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad() { echo "skip-report.sh: $*" >&2; exit 1; }

printf 'rdma_test.*  # no device here\n' >"$tmp/one"
printf 'rdma_test.*  # no device here\nrequired_test.must_run  # test entry\n' >"$tmp/both"
printf 'rdma_test.*\n' >"$tmp/no-reason"

out=$("$report" "$junit" --allowed "$tmp/one" 2>&1) || bad "not strict: exit $? ($out)"
grep -q '^tests: 4 run by ctest, 1 failed, 2 skipped$' <<<"$out" || bad "counts: $out"
grep -q '1 skipped: no RDMA device (ibv_get_device_list is empty)$' <<<"$out" || bad "reason: $out"
grep -q '1 skipped: forced skip$' <<<"$out" || bad "reason: $out"
grep -q 'required_test.must_run  (NOT in tests/allowed-skips)' <<<"$out" || bad "unlisted: $out"

"$report" "$junit" --allowed "$tmp/one" --strict >/dev/null 2>&1 &&
    bad "--strict passed with a skip no entry allows"
"$report" "$junit" --allowed "$tmp/both" --strict >/dev/null 2>&1 ||
    bad "--strict failed although every skip is allowed"
rc=0
"$report" "$junit" --allowed "$tmp/no-reason" >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || bad "an entry without its reason: exit $rc, want 2"
echo "skip-report.sh: ok"
