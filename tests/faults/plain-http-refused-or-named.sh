#!/bin/sh
# Plain http:// never goes unnoticed.  vCenter serves its API over HTTPS: an
# http:// vcenter_hostname is refused (exit 2, before any connection: the
# password would cross in clear) unless allow_insecure_http: true, which
# warns.  OpenStack endpoints over http:// (the lab's Keystone, as many
# private clouds' internal endpoints) are used, each named once per run in
# a warning, and listed in the migration report.  (A migrate whose VMs are
# all not found wrote its report: before, it crashed on an empty selection.)
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab

# A listener that records whether anyone connected.
python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(30)
try:
    c, _ = s.accept(); open(sys.argv[2], "w").write("connected")
except socket.timeout:
    pass
' "$TMP/port" "$TMP/connected" &
lpid=$!
stop_listener () { kill $lpid 2>/dev/null || :; }
on_exit stop_listener
for _i in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
port=$(cat "$TMP/port")

run_ferry 2 discover -e @"$FERRY_LAB_SECRETS" -e vcenter_hostname=http://127.0.0.1:$port/sdk --all --no-write
expect_in "$TMP/err" "vcenter_hostname http://127.0.0.1:$port/sdk is plain http://: the vCenter password would cross the network in clear"
expect_in "$TMP/err" "allow_insecure_http: true"
expect_not_in "$TMP/err" "$(grep vcenter_password "$FERRY_LAB_SECRETS" | sed 's/.*: *"\{0,1\}\([^"]*\)"\{0,1\}/\1/')"
sleep 0.3
[ ! -e "$TMP/connected" ] || fail "ferry connected to the http:// vCenter before refusing"
run_ferry 3 discover -e @"$FERRY_LAB_SECRETS" -e vcenter_hostname=http://127.0.0.1:$port/sdk \
    -e allow_insecure_http=true --all --no-write
expect_in "$TMP/err" "plain http:// \(allow_insecure_http\): the vCenter password and session cross the network in clear"

# The lab's OpenStack is plain http: named once per endpoint, in the report.
auth=$(jq -r .auth_url "$FERRY_LAB_DIR/openstack/lab.json")
case $auth in http://*) ;; *) echo "SKIP: the lab's Keystone is not http"; exit 77 ;; esac
# shellcheck disable=SC2046
run_ferry 1 migrate $(E_LAB) --vm no-such-vm-here --report "$TMP/report.json"
n=$(grep -c "OpenStack Keystone auth_url $auth is plain http://" "$TMP/err" || :)
[ "$n" = 1 ] || { cat "$TMP/err"; fail "the plain-http Keystone was named $n times (expected once)"; }
jq -e --arg a "$auth" '.[0].plain_http_endpoints | index($a) != null' "$TMP/report.json" >/dev/null ||
    { cat "$TMP/report.json"; fail "the report does not list $auth among plain_http_endpoints"; }
