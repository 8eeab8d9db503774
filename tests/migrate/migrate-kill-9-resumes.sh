#!/bin/sh
# kill -9 in the middle of a copy, then a rerun: the rerun reuses the
# interrupted run's volumes, snapshot and checkpoint (copying less than the
# whole when the checkpoint had recorded finished ranges), and ends with
# data identical to the source, no duplicate volumes or ports, nothing left
# attached to the conversion host and no snapshot.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
clean_vm lab-multi
S=$(state_of lab-multi)
ckpt=$FERRY_LAB_DIR/data/lab-multi/disk-2000.checkpoint
# shellcheck disable=SC2046
"$FERRY" migrate $(E_LAB) -e skip_conversion=true --vm lab-multi > "$TMP/run1.out" 2> "$TMP/run1.err" &
pid=$!
# Kill once the copy of the first disk has started (its checkpoint exists).
wait_for_file "$ckpt" $pid "$TMP/run1.err" "the first run"
sleep 0.3
recorded=$(grep -c "^D " "$ckpt" || :)
kill -9 $pid
wait $pid 2>/dev/null || :
[ "$(jq -r .phase "$S")" = copying ] || fail "state phase $(jq -r .phase "$S") after the kill"
snap=$(jq -r .snapshot "$S")
[ "$snap" != null ] || fail "snapshot not recorded"
# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) -e skip_conversion=true --vm lab-multi
expect_in "$TMP/err" "reusing snapshot $snap"
[ "$(jq -r .phase "$S")" = done ] || fail "rerun did not finish"
# If the checkpoint had recorded finished ranges, the rerun copied less.
copied=$(jq -r '.volumes["2000"].bytes_copied' "$S")
total=$(jq -r '.volumes["2000"].bytes_total' "$S")
if [ "$recorded" -gt 0 ]; then
    [ "$copied" -lt "$total" ] || fail "disk 2000: rerun copied $copied of $total bytes (no resume)"
fi
volumes_match_flat lab-multi "after the resume"
uuid=$(jq -r .uuid "$S")
[ "$(volumes_of_uuid "$uuid")" = 3 ] || fail "orphan volumes: $(volumes_of_uuid "$uuid") for 3 disks"
"$OSAPI" GET network "/ports?mac_address=00:50:56:aa:01:01" > "$TMP/p.json"
[ "$(jq '.ports | length' "$TMP/p.json")" = 1 ] || fail "duplicate ports for MAC 00:50:56:aa:01:01"
"$OSAPI" GET compute "/servers/$(jq -r .conversion_host.id "$FERRY_LAB_DIR/openstack/lab.json")/os-volume_attachments" > "$TMP/ch.json"
[ "$(jq '.volumeAttachments | length' "$TMP/ch.json")" = 0 ] || fail "volumes left on the conversion host"
run_ferry 0 discover $(E_LAB) --vm lab-multi --no-write --format json
[ "$(jq -r '[.[0].snapshots[] | select(.name | startswith("ferry-"))] | length' "$TMP/out")" = 0 ] ||
    fail "ferry's snapshot left on lab-multi"
