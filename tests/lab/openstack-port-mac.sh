#!/bin/bash
# Lab: a Neutron port with a given (VMware) MAC and fixed IP.
. lab/openstack/testlib.sh

login_ferry
NET_URL=$(endpoint network)
net=$(lj '.networks["lab-vm-network"].id')
subnet=$(lj '.networks["lab-vm-network"].subnet_id')
mac=00:50:56:aa:bb:cc
ip=192.168.100.201

# leftovers of an interrupted run
for p in $(api GET "$NET_URL/v2.0/ports?network_id=$net&mac_address=$mac" | jq -r '.ports[].id'); do
    api DELETE "$NET_URL/v2.0/ports/$p" >/dev/null
done

WHAT="create port" api POST "$NET_URL/v2.0/ports" "$(jq -n --arg n "$net" --arg s "$subnet" \
    --arg m "$mac" --arg ip "$ip" --arg sg "$(lj .security_group.id)" \
    '{port: {name: "lab-test-port-mac", network_id: $n, mac_address: $m,
             fixed_ips: [{subnet_id: $s, ip_address: $ip}], security_groups: [$sg]}}')" >"$T_TMP/port.json"
WHAT="create port" expect 201
pid=$(jq -er .port.id "$T_TMP/port.json")
at_exit api DELETE "$NET_URL/v2.0/ports/$pid"

WHAT="show port" api GET "$NET_URL/v2.0/ports/$pid" >"$T_TMP/port.json"
WHAT="show port" expect 200
[ "$(jq -r .port.mac_address "$T_TMP/port.json")" = "$mac" ] ||
    fail "port shows MAC $(jq -r .port.mac_address "$T_TMP/port.json"), want $mac"
[ "$(jq -r '.port.fixed_ips[0].ip_address' "$T_TMP/port.json")" = "$ip" ] ||
    fail "port has IP $(jq -r '.port.fixed_ips[0].ip_address' "$T_TMP/port.json"), want $ip"
[ "$(jq -r .port.project_id "$T_TMP/port.json")" = "$(lj .project.id)" ] || fail "port not in the project"

WHAT="delete port" api DELETE "$NET_URL/v2.0/ports/$pid" >/dev/null
WHAT="delete port" expect 204
api GET "$NET_URL/v2.0/ports/$pid" >/dev/null
[ "$(code)" = 404 ] || fail "port $pid still there after delete"
exit 0
