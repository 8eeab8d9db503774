#!/bin/sh
# With use_existing_flavor: false, deploy sizes the flavor by the seeds'
# rule (--parallel 3: 3 vCPU, 6144 MiB, 16 GB), creates it (as an admin)
# and delete removes it.  A flavor of that shape that existed before is
# used and kept by delete; at --parallel 1 the size is the minimum 2 vCPU,
# 4096 MiB, 16 GB.  Nothing else is touched.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
. "$FERRY_SRCDIR/tests/conversion-host/functions-ch.sh"
need_lab
fixture_network ferry-test-ch-admin 10.98.8.0/24 --admin
# As the lab's admin (creating flavors needs it), no key pair (the admin has none).
E="-e dst_cloud=$(lab_id .admin_cloud) -e ssh_key_name= -e conversion_host_image=$(lab_id .image.id)
   -e conversion_host_network=$FX_NET -e use_existing_flavor=false"
ch_cleanup () {
    "$FERRY" conversion-host delete $(E_LAB) $E --name t-flavor-a >/dev/null 2>&1
    "$FERRY" conversion-host delete $(E_LAB) $E --name t-flavor-b >/dev/null 2>&1
    [ -z "${PRE:-}" ] || "$OSAPI" --admin DELETE compute "/flavors/$PRE" >/dev/null 2>&1
}
on_exit ch_cleanup
snapshot "$TMP/before" --admin
# shellcheck disable=SC2046,SC2086
run_ferry 0 conversion-host deploy $(E_LAB) $E --parallel 3 --name t-flavor-a --no-wait-ssh --format json
[ "$(jq -r .created.flavor "$TMP/out")" = true ] || fail "flavor not created"
[ "$(jq -r .ssh "$TMP/out")" = skipped ] || fail "ssh not skipped"
sid=$(jq -r .server.id "$TMP/out")
"$OSAPI" --admin GET compute "/servers/$sid" > "$TMP/server.json"
[ "$(jq -r '.server.flavor | "\(.original_name) \(.vcpus) \(.ram) \(.disk)"' "$TMP/server.json")" = \
  "ferry-conversion-host-3cpu-6144mb-16gb 3 6144 16" ] || fail "flavor $(jq -c .server.flavor "$TMP/server.json")"
[ "$(jq -r .server.key_name "$TMP/server.json")" = null ] || fail "a key pair was set"
# shellcheck disable=SC2046,SC2086
run_ferry 0 conversion-host delete $(E_LAB) $E --name t-flavor-a
expect_in "$TMP/out" "deleted flavor ferry-conversion-host-3cpu-6144mb-16gb"
snapshot "$TMP/after" --admin
diff "$TMP/before" "$TMP/after" || fail "delete did not restore the resources from before"
# A flavor that was there before: used, kept.
PRE=$("$OSAPI" --admin POST compute /flavors '{"flavor": {"name": "ferry-conversion-host-2cpu-4096mb-16gb", "vcpus": 2, "ram": 4096, "disk": 16}}' | jq -r .flavor.id)
# shellcheck disable=SC2046,SC2086
run_ferry 0 conversion-host deploy $(E_LAB) $E --name t-flavor-b --no-wait-ssh --format json
[ "$(jq -r .created.flavor "$TMP/out")" = false ] || fail "flavor created though one existed"
[ "$(jq -r .flavor.original_name "$TMP/out")" = ferry-conversion-host-2cpu-4096mb-16gb ] || fail "flavor $(jq -c .flavor "$TMP/out")"
# shellcheck disable=SC2046,SC2086
run_ferry 0 conversion-host delete $(E_LAB) $E --name t-flavor-b
expect_not_in "$TMP/out" "deleted flavor"
"$OSAPI" --admin GET compute "/flavors/$PRE" >/dev/null || fail "the flavor from before was deleted"
