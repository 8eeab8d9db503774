#!/bin/sh
# A vCenter answer missing one field is a clear error (exit 3, naming the
# call), never a crash: a sessionManager without its type attribute (before
# login), no viewManager (after login: discover and check).  A stand-in
# server (tests/tools/hostile-vcenter.py) answers from a real vCenter's
# service content with the field removed.
. "$FERRY_SRCDIR/tests/functions.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
        -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null || fail "openssl"

pids=""
stop_servers () { for p in $pids; do kill "$p" 2>/dev/null || :; done; }
on_exit stop_servers

# start MODE: a stand-in on a free port; sets $port.
start () {
    rm -f "$TMP/port"
    "$FERRY_SRCDIR/tests/tools/hostile-vcenter.py" "$1" "$TMP/cert.pem" "$TMP/key.pem" \
        "$TMP/port" 2>"$TMP/server.err" &
    pids="$pids $!"
    for _i in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
    [ -s "$TMP/port" ] || { cat "$TMP/server.err"; fail "the stand-in vCenter did not start"; }
    port=$(cat "$TMP/port")
    cat > "$TMP/secrets.yml" <<EOS
vcenter_hostname: 127.0.0.1:$port
vcenter_username: administrator@vsphere.local
vcenter_password: "hostile-test-password"
vcenter_datacenter: DC0
vcenter_cacert: $TMP/cert.pem
EOS
}

start no-session-manager-type
run_ferry 3 discover -e @"$TMP/secrets.yml" --all --no-write
expect_in "$TMP/err" "Login: the managed object to call it on is missing from the server's answers"
expect_not_in "$TMP/err" "hostile-test-password"

start no-view-manager
run_ferry 3 discover -e @"$TMP/secrets.yml" --all --no-write
expect_in "$TMP/err" "CreateContainerView: the managed object to call it on is missing"
# check reports it as a failed check (exit 1: the work failed), not a crash.
run_ferry 1 check -e @"$TMP/secrets.yml" -e skip_conversion=true --vm any-vm
expect_in "$TMP/err" "the managed object to call it on is missing|CreateContainerView"
