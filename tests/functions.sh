# Shared helpers for ferry's shell tests.  Source it: . "$FERRY_SRCDIR/tests/functions.sh"
set -eu
: "${FERRY_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${FERRY:=$FERRY_SRCDIR/build/ferry}"
export FERRY FERRY_SRCDIR

TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "/tmp/ferry-$TEST_NAME-XXXXXX")
cleanup_fns=""
on_exit () { cleanup_fns="$1 $cleanup_fns"; }
_run_cleanup () {
    rc=$?
    for f in $cleanup_fns; do "$f" || :; done
    rm -rf "$TMP"
    exit $rc
}
trap _run_cleanup EXIT INT TERM

fail () { echo "FAIL: $TEST_NAME: $*" >&2; exit 1; }

# run_cmd EXPECTED_EXIT PROGRAM ARGS...: stdout in $TMP/out, stderr in $TMP/err;
# fails the test (showing both) if the exit status is not the expected one.
run_cmd () {
    want=$1; shift
    set +e
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    set -e
    if [ "$got" != "$want" ]; then
        echo "--- stdout"; cat "$TMP/out"; echo "--- stderr"; cat "$TMP/err"
        fail "$(basename "$1") $(shift; echo "$*") exited $got, expected $want"
    fi
}
run_ferry () { want=$1; shift; run_cmd "$want" "$FERRY" "$@"; }

# wait_for_file FILE PID LOG WHAT: wait (up to 60 s) until FILE is non-empty,
# failing with LOG shown if the background process PID ends first.
wait_for_file () {
    for _ in $(seq 12000); do
        [ -s "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || { cat "$3"; fail "$4 ended before $(basename "$1") appeared"; }
        sleep 0.005
    done
    fail "$(basename "$1") did not appear within 60 s"
}

# expect_in FILE PATTERN (grep -E)
expect_in () { grep -Eq -- "$2" "$1" || { cat "$1"; fail "'$2' not in $(basename "$1")"; }; }
expect_not_in () { ! grep -Eq -- "$2" "$1" || { cat "$1"; fail "'$2' found in $(basename "$1")"; }; }

# Lab facts for tests that need the lab (lab/lab up must have run).
need_lab () {
    eval "$("$FERRY_SRCDIR/lab/lab" env)" || fail "lab is not up: run lab/lab up"
}
