#!/bin/sh
# A sync of a VM whose CBT is off is refused with a clear message -- never
# a silent fallback to stale data; with --enable-cbt ferry turns CBT on and
# proceeds.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
E="$(E_LAB) -e skip_conversion=true --vm lab-linux-1disk"
clean_vm lab-linux-1disk
# CBT off, as the lab made it (an earlier run may have turned it on); and
# off again at the end, for the lab's other tests.
cbt_off () { "$FERRY_SRCDIR/tests/tools/vsphere-props.py" --set-cbt lab-linux-1disk false > /dev/null; }
on_exit cbt_off
cbt_off
run_ferry 0 discover $(E_LAB) --vm lab-linux-1disk --no-write --format json
[ "$(jq -r '.[0].cbt_enabled' "$TMP/out")" = false ] || fail "could not turn CBT off for the test"
# shellcheck disable=SC2086
run_ferry 2 sync $E
expect_in "$TMP/err" "CBT .* is off.*--enable-cbt"
[ "$(volumes_of_uuid "$(jq -r '.[0].uuid' "$TMP/out")")" = 0 ] || fail "volumes made before refusing"
# shellcheck disable=SC2086
run_ferry 0 sync $E --enable-cbt
run_ferry 0 discover $(E_LAB) --vm lab-linux-1disk --no-write --format json
[ "$(jq -r '.[0].cbt_enabled' "$TMP/out")" = true ] || fail "CBT not enabled"
S=$(state_of lab-linux-1disk)
vid=$(jq -r '.volumes["2000"].id' "$S")
flat=$(jq -r '.vms[] | select(.name == "lab-linux-1disk") | .disks[0].flat' "$FERRY_LAB_DIR/vcsim/lab.json")
cmp -n "$(stat -c %s "$flat")" "$flat" "$FERRY_LAB_VOLUMES/volume-$vid" || fail "volume differs after the first sync"
clean_vm lab-linux-1disk
