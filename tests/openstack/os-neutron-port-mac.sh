#!/bin/sh
# Neutron: networks by name and by id with their subnets; a port with a
# given MAC and a tag, found by tag and by MAC; the same MAC again is a
# clear conflict; security groups by name; unknown names are "not found".
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

os_tool 0 network-find lab-dvpg
[ "$(jq -r .id "$TMP/out")" = "$(lj '.networks["lab-dvpg"].id')" ] || fail "network by name"
[ "$(jq -r '.subnet_details[0].id' "$TMP/out")" = "$(lj '.networks["lab-dvpg"].subnet_id')" ] || fail "subnets"
os_tool 0 network-find "$(lj '.networks["lab-vm-network"].id')"
[ "$(jq -r .name "$TMP/out")" = lab-vm-network ] || fail "network by id"
os_tool 1 network-find no-such-network
expect_in "$TMP/err" "no network named or with id 'no-such-network'"
os_tool 0 sg-find "$(lj .security_group.name)"
[ "$(jq -r .id "$TMP/out")" = "$(lj .security_group.id)" ] || fail "security group by name"

mac=00:50:56:$(printf '%02x:%02x' $(($$ % 256)) $(($$ / 256 % 256))):42
os_tool 0 port-create lab-dvpg "$mac" "ferry-test-port-$$"
pid=$(jq -er .id "$TMP/out")
del () { "$OS_TOOL" port-delete "$pid" >/dev/null 2>&1; }
on_exit del
[ "$(jq -r .mac_address "$TMP/out")" = "$mac" ] || fail "MAC not kept"
jq -e '.fixed_ips[0].ip_address | startswith("192.168.200.")' "$TMP/out" >/dev/null || fail "no address on lab-dvpg"
os_tool 0 port-list "tags=ferry-test&name=ferry-test-port-$$"
[ "$(jq -r '.[0].id' "$TMP/out")" = "$pid" ] || fail "port not found by tag"
os_tool 0 port-list "mac_address=$mac"
[ "$(jq length "$TMP/out")" = 1 ] || fail "port not found by MAC"

os_tool 4 port-create lab-dvpg "$mac" "ferry-test-port2-$$"
expect_in "$TMP/err" "Neutron create port 'ferry-test-port2-$$' with MAC $mac: POST .*/v2.0/ports: HTTP 409: MacAddressInUse"

os_tool 0 port-delete "$pid"
os_tool 0 port-list "mac_address=$mac"
[ "$(jq length "$TMP/out")" = 0 ] || fail "port not deleted"
exit 0
