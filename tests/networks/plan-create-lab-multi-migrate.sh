#!/bin/sh
# ferry networks: lab-multi's two port groups ("VM Network", standard, and
# DC0_DVPG0, distributed) with an empty network_map plan two networks with
# the subnets of the guests' addresses (192.168.100.0/24, 192.168.200.0/24);
# create makes them (a rerun finds them), and prints and writes the
# network_map; a cold migration with that map puts each port on its
# network.  With the lab's own map both are "mapped"; a map to a network
# that does not exist is refused.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
EMPTY='{"network_map": {}}'
nets_cleanup () {
    "$FERRY" teardown $(E_LAB) --vm lab-multi >/dev/null 2>&1 || :
    for n in ferry-VM-Network ferry-DC0_DVPG0; do
        for id in $("$OSAPI" GET network "/networks?name=$n&tags=ferry-created" | jq -r '.networks[].id'); do
            "$OSAPI" DELETE network "/networks/$id" >/dev/null 2>&1 || :
        done
    done
}
on_exit nets_cleanup
nets_cleanup
# With the lab's map: both mapped to the seeded networks.
# shellcheck disable=SC2046
run_ferry 0 networks plan $(E_LAB) --vm lab-multi --format json
[ "$(jq -r '[.networks[] | "\(.key)=\(.action):\(.neutron.name)"] | join(" ")' "$TMP/out")" = \
  "VM Network=mapped:lab-vm-network dvportgroup-13=mapped:lab-dvpg" ] || fail "mapped plan: $(cat "$TMP/out")"
[ "$(jq -r '.networks[1].neutron.id' "$TMP/out")" = "$(jq -r '.networks["lab-dvpg"].id' "$FERRY_LAB_DIR/openstack/lab.json")" ] ||
    fail "mapped network id"
# A map to nothing is refused, naming the port group and the network.
# shellcheck disable=SC2046
run_ferry 2 networks plan $(E_LAB) --vm lab-multi -e '{"network_map": {"VM Network": "no-such-net"}}'
expect_in "$TMP/err" "port group 'VM Network'.*no-such-net"
# Empty map: two networks to create, subnets from the guests' addresses.
# shellcheck disable=SC2046
run_ferry 0 networks plan $(E_LAB) --vm lab-multi -e "$EMPTY" --format json
cp "$TMP/out" "$TMP/plan.json"
P() { jq -r "$1" "$TMP/plan.json"; }
[ "$(P '.networks | length')" = 2 ] || fail "plan has $(P '.networks | length') networks"
[ "$(P '[.networks[] | "\(.kind):\(.name):\(.action):\(.neutron.name):\(.subnets | join(","))"] | join(" ")')" = \
  "standard:VM Network:create:ferry-VM-Network:192.168.100.0/24 distributed:DC0_DVPG0:create:ferry-DC0_DVPG0:192.168.200.0/24" ] ||
    fail "plan: $(cat "$TMP/plan.json")"
[ "$(P '.networks[1].vlan')" = 0 ] || fail "DC0_DVPG0's VLAN id: $(P '.networks[1].vlan')"
# shellcheck disable=SC2046
run_ferry 0 networks plan $(E_LAB) --vm lab-multi -e "$EMPTY"
expect_in "$TMP/out" "distributed port group 'DC0_DVPG0' \(dvportgroup-13, VLAN 0\): create ferry-DC0_DVPG0"
# Create, printing and writing the map.
# shellcheck disable=SC2046
run_ferry 0 networks create $(E_LAB) --vm lab-multi -e "$EMPTY" --write "$TMP/map.yml"
expect_in "$TMP/out" '^  "VM Network": "ferry-VM-Network"'
expect_in "$TMP/out" '^  "dvportgroup-13": "ferry-DC0_DVPG0"'
expect_in "$TMP/map.yml" '^used_mapped_networks: true'
expect_in "$TMP/map.yml" '^  "dvportgroup-13": "ferry-DC0_DVPG0"'
for pair in "ferry-VM-Network 192.168.100.0/24" "ferry-DC0_DVPG0 192.168.200.0/24"; do
    n=${pair% *}; cidr=${pair#* }
    "$OSAPI" GET network "/networks?name=$n" > "$TMP/n.json"
    [ "$(jq '.networks | length' "$TMP/n.json")" = 1 ] || fail "$n: $(jq '.networks | length' "$TMP/n.json") networks"
    jq -e '.networks[0].tags | index("ferry-created")' "$TMP/n.json" >/dev/null || fail "$n: no ferry-created tag"
    id=$(jq -r '.networks[0].id' "$TMP/n.json")
    [ "$("$OSAPI" GET network "/subnets?network_id=$id" | jq -r '[.subnets[].cidr] | join(",")')" = "$cidr" ] ||
        fail "$n: subnets are not $cidr"
    eval "ID_$(echo "$n" | tr -c 'A-Za-z0-9\n' _)=$id"
done
# A rerun finds them.
# shellcheck disable=SC2046
run_ferry 0 networks create $(E_LAB) --vm lab-multi -e "$EMPTY" --format json
[ "$(jq -r '[.networks[].action] | join(" ")' "$TMP/out")" = "exists exists" ] || fail "rerun: $(cat "$TMP/out")"
[ "$("$OSAPI" GET network "/networks?name=ferry-VM-Network" | jq '.networks | length')" = 1 ] || fail "rerun made another network"
[ "$("$OSAPI" GET network "/subnets?network_id=$ID_ferry_VM_Network" | jq '.subnets | length')" = 1 ] || fail "rerun made another subnet"
# A migration with the map: each port on its network, with the VMware MAC.
clean_vm lab-multi
# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) -e @"$TMP/map.yml" -e skip_conversion=true --vm lab-multi
sid=$(jq -r .server.id "$(state_of lab-multi)")
"$OSAPI" GET network "/ports?device_id=$sid" > "$TMP/ports.json"
for pair in "00:50:56:aa:01:01 $ID_ferry_VM_Network" "00:50:56:aa:01:02 $ID_ferry_DC0_DVPG0"; do
    mac=${pair% *}; netid=${pair#* }
    [ "$(jq -r --arg m "$mac" '.ports[] | select(.mac_address == $m) | .network_id' "$TMP/ports.json")" = "$netid" ] ||
        fail "port with MAC $mac is not on network $netid: $(cat "$TMP/ports.json")"
done
clean_vm lab-multi
