#!/bin/sh
# Nova: flavors listed and fitted; a server booted from a bootable volume
# with a port carrying a given MAC (lab network), key pair, metadata, tags
# and user data reaches ACTIVE; server, port and volume are deleted.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

os_tool 0 flavors
jq -e 'map(.name) | index("lab.small")' "$TMP/out" >/dev/null || fail "lab.small not listed"
os_tool 0 flavor-fit 2 3000
[ "$(jq -r .name "$TMP/out")" = lab.medium ] || { cat "$TMP/out"; fail "2 vCPU/3000 MiB should fit lab.medium"; }
os_tool 0 flavor-fit 1000 1
[ "$(cat "$TMP/out")" = null ] || fail "no flavor has 1000 vCPUs"
os_tool 0 nova-version
os_tool 0 keypair "$(lj .keypair.name)"

mac=fa:16:3e:$(printf '%02x:%02x:%02x' $(($$ % 256)) $(($$ / 256 % 256)) 77)
os_tool 0 boot "ferry-test-bfv-$$" "$(lj '.flavors["lab.small"]')" lab-vm-network "$mac" \
    "$(lj .keypair.name)" "$(lj .security_group.name)"
[ "$(jq -r .server.status "$TMP/out")" = ACTIVE ] || fail "server not ACTIVE"
[ "$(jq -r .port.mac_address "$TMP/out")" = "$mac" ] || fail "port MAC not $mac"
jq -e '.port.tags | index("ferry-test")' "$TMP/out" >/dev/null || fail "port tag not set"
jq -e --arg v "$(jq -r .volume.id "$TMP/out")" \
    '.server["os-extended-volumes:volumes_attached"] | map(.id) | index($v)' "$TMP/out" >/dev/null ||
    fail "the server does not boot from the volume"
jq -e '.server.tags | index("ferry-test")' "$TMP/out" >/dev/null || fail "server tags not set (microversion)"
[ "$(jq -r .server.key_name "$TMP/out")" = "$(lj .keypair.name)" ] || fail "key pair not set"
[ "$(jq -r .server.metadata.ferry "$TMP/out")" = test ] || fail "server metadata not set"
sid=$(jq -r .server.id "$TMP/out")
# everything was deleted
os_tool 4 request GET compute "/servers/$sid"
expect_in "$TMP/err" "HTTP 404"
os_tool 0 port-list "mac_address=$mac"
[ "$(jq length "$TMP/out")" = 0 ] || fail "port left behind"
exit 0
