#!/bin/sh
# ferry check with the lab's secrets and vars: every OpenStack row passes
# (auth, endpoints, microversion, flavors, quotas, networks, volume types,
# key pair, security group, conversion host) and the check exits 0.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

run_ferry 0 check -e @"$FERRY_LAB_SECRETS" -e @"$FERRY_LAB_VARS" --format json
for c in os-auth os-endpoint os-nova os-flavor os-quota os-network os-voltype os-keypair \
         os-secgroup os-convhost; do
    jq -e --arg c "$c" 'map(select(.check == $c)) | length > 0' "$TMP/out" >/dev/null ||
        fail "no $c row"
done
bad=$(jq -r '.[] | select((.check | startswith("os-")) and .status != "pass") | "\(.check) \(.target): \(.detail)"' "$TMP/out")
[ -z "$bad" ] || fail "rows not passing: $bad"
# every NIC of the selection is resolved: lab-multi's second NIC is on the DVS
jq -e 'map(select(.check == "os-network" and .target == "lab-multi/ethernet-1" and
        (.detail | test("lab-dvpg")))) | length == 1' "$TMP/out" >/dev/null || fail "DVS NIC not mapped"
# quotas are compared with the plan: lab-multi's 3 disks + lab-linux-1disk's 1
jq -e 'map(select(.check == "os-quota" and .target == "volumes" and (.detail | test("need 4")))) | length == 1' \
    "$TMP/out" >/dev/null || fail "volumes quota not compared with the plan"
exit 0
