#!/bin/bash
# Lab: boot-from-volume server with a pre-created port reaches ACTIVE.
. lab/openstack/testlib.sh

login_ferry
COMPUTE_URL=$(endpoint compute)
VOLUME_URL=$(endpoint volumev3)
NET_URL=$(endpoint network)
net=$(lj '.networks["lab-vm-network"].id')
sg=$(lj .security_group.id)

create_volume "lab-test-bfv-$$" 1
vid=$VOL_ID
WHAT="set bootable" api POST "$VOLUME_URL/volumes/$vid/action" '{"os-set_bootable": {"bootable": true}}' >/dev/null
WHAT="set bootable" expect 200
[ "$(api GET "$VOLUME_URL/volumes/$vid" | jq -r .volume.bootable)" = true ] || fail "volume not bootable"

WHAT="create port" api POST "$NET_URL/v2.0/ports" "$(jq -n --arg n "$net" --arg sg "$sg" \
    '{port: {name: "lab-test-bfv-port", network_id: $n, mac_address: "00:50:56:aa:bb:dd",
             security_groups: [$sg]}}')" >"$T_TMP/port.json"
WHAT="create port" expect 201
port=$(jq -er .port.id "$T_TMP/port.json")
at_exit api DELETE "$NET_URL/v2.0/ports/$port"

API_HEADERS=(-H "OpenStack-API-Version: compute 2.67")
WHAT="create server" api POST "$COMPUTE_URL/servers" "$(jq -n --arg v "$vid" --arg p "$port" \
    --arg f "$(lj '.flavors["lab.small"]')" --arg k "$(lj .keypair.name)" --arg sg "$(lj .security_group.name)" \
    '{server: {name: "lab-test-bfv", flavorRef: $f, key_name: $k, security_groups: [{name: $sg}],
               networks: [{port: $p}],
               block_device_mapping_v2: [{boot_index: 0, uuid: $v, source_type: "volume",
                                          destination_type: "volume", delete_on_termination: false}]}}')" \
    >"$T_TMP/server.json"
WHAT="create server" expect 202
srv=$(jq -er .server.id "$T_TMP/server.json")
at_exit wait_until 60 "server deleted" server_gone "$srv"
at_exit api DELETE "$COMPUTE_URL/servers/$srv"
unset API_HEADERS

active() {
    local s
    s=$(server_status "$srv")
    [ "$s" = ERROR ] && fail "server went to ERROR: $(api GET "$COMPUTE_URL/servers/$srv" | jq -c .server.fault)"
    [ "$s" = ACTIVE ]
}
t0=$(date +%s)
wait_until 60 "server $srv ACTIVE" active
info "ACTIVE after $(($(date +%s) - t0)) s"
api GET "$COMPUTE_URL/servers/$srv" >"$T_TMP/server.json"
[ "$(jq -r '.server.key_name' "$T_TMP/server.json")" = "$(lj .keypair.name)" ] || fail "server lacks the key pair"
jq -e --arg v "$vid" '.server["os-extended-volumes:volumes_attached"] | map(.id) | index($v)' \
    "$T_TMP/server.json" >/dev/null || fail "boot volume not attached to the server"
wait_until 30 "volume in-use" volume_is "$vid" in-use
[ "$(api GET "$NET_URL/v2.0/ports/$port" | jq -r .port.device_id)" = "$srv" ] || fail "port not bound to the server"
jq -e --arg g "$(lj .security_group.name)" '.server.security_groups | map(.name) | index($g)' \
    "$T_TMP/server.json" >/dev/null || fail "server does not show security group $(lj .security_group.name)"

WHAT="delete server" api DELETE "$COMPUTE_URL/servers/$srv" >/dev/null
WHAT="delete server" expect 204
wait_until 60 "server $srv deleted" server_gone "$srv"
wait_until 30 "boot volume available after delete" volume_is "$vid" available
WHAT="delete port" api DELETE "$NET_URL/v2.0/ports/$port" >/dev/null
WHAT="delete port" expect 204
WHAT="delete volume" api DELETE "$VOLUME_URL/volumes/$vid" >/dev/null
WHAT="delete volume" expect 202
wait_until 30 "volume deleted" volume_gone "$vid"
exit 0
