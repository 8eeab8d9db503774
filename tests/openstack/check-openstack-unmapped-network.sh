#!/bin/sh
# ferry check with a network_map that misses lab-multi's DVS port group and
# points "VM Network" at a network that does not exist: both NICs fail,
# each row naming the NIC; with used_mapped_networks false the private
# network is checked instead.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

run_ferry 1 check -e @"$FERRY_LAB_SECRETS" -e @"$FERRY_LAB_VARS" --vm lab-multi --format json \
    -e '{"network_map": {"VM Network": "no-such-net"}}'
jq -e 'map(select(.check == "os-network" and .status == "fail" and .target == "lab-multi/ethernet-0"
        and (.detail | test("no-such-net")))) | length == 1' "$TMP/out" >/dev/null ||
    { cat "$TMP/out"; fail "NIC mapped to a missing network not reported"; }
jq -e 'map(select(.check == "os-network" and .status == "fail" and .target == "lab-multi/ethernet-1"
        and (.detail | test("maps to no Neutron network")))) | length == 1' "$TMP/out" >/dev/null ||
    { cat "$TMP/out"; fail "unmapped NIC not reported"; }

run_ferry 0 check -e @"$FERRY_LAB_SECRETS" -e @"$FERRY_LAB_VARS" --vm lab-multi --format json \
    -e used_mapped_networks=false
jq -e 'map(select(.check == "os-network")) | length == 1 and .[0].status == "pass"' "$TMP/out" >/dev/null ||
    fail "openstack_private_network not checked"
exit 0
