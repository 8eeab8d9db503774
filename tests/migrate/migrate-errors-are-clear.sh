#!/bin/sh
# Each a clear error, the right exit code, and nothing left half-made that
# `ferry status` does not show: bad OpenStack credentials, a NIC whose
# network maps nowhere, a missing conversion host, a quota too small.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
clean_vm lab-windows
E="$(E_LAB) -e skip_conversion=true --vm lab-windows"
# Bad OpenStack password: exit 4 before anything is made.
printf 'dst_cloud:\n  auth:\n    auth_url: %s\n    username: ferry\n    password: not-the-password\n    project_name: ferry-migration\n    user_domain_name: Default\n    project_domain_name: Default\n' \
    "$(jq -r .auth_url "$FERRY_LAB_DIR/openstack/lab.json")" > "$TMP/badcloud.yml"
# shellcheck disable=SC2086
run_ferry 4 migrate $E -e @"$TMP/badcloud.yml"
expect_in "$TMP/err" "Keystone"
expect_in "$TMP/err" "401"
expect_not_in "$TMP/err" "not-the-password"
# A NIC whose port group network_map does not map: exit 2, naming the NIC.
# shellcheck disable=SC2086
run_ferry 2 migrate $E -e 'network_map={"nothing": "lab-vm-network"}'
expect_in "$TMP/err" "VM lab-windows: NIC 0 .* which network_map does not map"
# A missing conversion host: a clear error, nothing left attached, the
# snapshot removed; status shows where it stopped.
# shellcheck disable=SC2086
run_ferry 4 migrate $E -e import_workloads_instance_uuid=00000000-0000-0000-0000-000000000000
expect_in "$TMP/err" "00000000-0000-0000-0000-000000000000"
run_ferry 0 discover $(E_LAB) --vm lab-windows --no-write --format json
[ "$(jq -r '[.[0].snapshots[] | select(.name | startswith("ferry-"))] | length' "$TMP/out")" = 0 ] ||
    fail "ferry's snapshot left on lab-windows after the failure"
run_ferry 0 status $(E_LAB) --vm lab-windows --format json
[ "$(jq -r '.[0].error' "$TMP/out")" != null ] || fail "status does not show the failure"
[ "$(jq -r '.[0].volumes | length' "$TMP/out")" = 1 ] || fail "status does not show the volume made"
clean_vm lab-windows
# A quota too small (set by the admin, restored after): exit 4 naming the quota.
pid=$(jq -r .project.id "$FERRY_LAB_DIR/openstack/lab.json")
old=$("$OSAPI" --admin GET volumev3 "/os-quota-sets/$pid" | jq .quota_set.gigabytes)
# Cinder refuses a limit below the usage: the usage itself leaves no room.
used=$("$OSAPI" --admin GET volumev3 "/os-quota-sets/$pid?usage=true" | jq .quota_set.gigabytes.in_use)
restore () { "$OSAPI" --admin PUT volumev3 "/os-quota-sets/$pid" "{\"quota_set\": {\"gigabytes\": $old}}" > /dev/null; }
on_exit restore
"$OSAPI" --admin PUT volumev3 "/os-quota-sets/$pid" "{\"quota_set\": {\"gigabytes\": $used}}" > /dev/null
# shellcheck disable=SC2086
run_ferry 4 migrate $E
expect_in "$TMP/err" "[Qq]uota"
expect_in "$TMP/err" "gigabytes"
restore
clean_vm lab-windows
