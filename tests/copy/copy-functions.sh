# Helpers for the copy tests.  Source after tests/functions.sh.

# requires CMD...: skip the test (exit 77) when a tool is missing.
requires () {
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $TEST_NAME: $t not installed"; exit 77; }
    done
}
requires nbdkit nbdcopy

_nbdkit_pids=""
_kill_nbdkits () { for p in $_nbdkit_pids; do kill "$p" 2>/dev/null || :; done; }
on_exit _kill_nbdkits

# serve NAME NBDKIT-ARGS...: start nbdkit on the Unix socket $TMP/NAME.sock,
# sets $uri_NAME (nbd+unix:///?socket=...).  Returns when it is ready.
serve () {
    name=$1; shift
    rm -f "$TMP/$name.sock" "$TMP/$name.pid"
    nbdkit -U "$TMP/$name.sock" -P "$TMP/$name.pid" "$@" ||
        fail "nbdkit $* did not start"
    for _i in $(seq 50); do [ -s "$TMP/$name.pid" ] && break; sleep 0.1; done
    _nbdkit_pids="$_nbdkit_pids $(cat "$TMP/$name.pid")"
    eval "uri_$name=\"nbd+unix:///?socket=$TMP/$name.sock\""
}

# stop NAME: stop that nbdkit.
stop () { kill "$(cat "$TMP/$1.pid")" 2>/dev/null || :; sleep 0.2; }

# stat_of NAME: a number from ferry's summary line in $TMP/err
# ("... processed ..., written N, zeroed N, skipped N; N retries").
stat_of () {
    case $1 in
        processed) sed -nE 's/.*copy: ([0-9]+) of [0-9]+ bytes processed.*/\1/p' "$TMP/err" ;;
        before) sed -nE 's/.*\(([0-9]+) done before.*/\1/p' "$TMP/err" ;;
        retries) sed -nE 's/.*; ([0-9]+) retries.*/\1/p' "$TMP/err" ;;
        *) sed -nE "s/.*[ (]$1 ([0-9]+).*/\\1/p" "$TMP/err" ;;
    esac
}

# allocated FILE: bytes allocated on disk.
allocated () { echo $(( $(stat -c '%b * %B' "$1") )); }
