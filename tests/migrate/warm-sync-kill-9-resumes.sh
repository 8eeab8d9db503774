#!/bin/sh
# kill -9 in the middle of a warm sync (a delta pass), then a rerun: the
# rerun reuses the interrupted run's snapshot and ends with the volume equal
# to the source disk, one volume only for the VM, the change id recorded in
# the state equal to the volume's changeID metadata, no snapshot left and
# nothing attached to the conversion host.  A further sync with no guest
# write copies nothing.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
VM=lab-linux-1disk
E="$(E_LAB) -e skip_conversion=true --vm $VM"
S=$(state_of $VM)
ckpt=$FERRY_LAB_DIR/data/$VM/disk-2000.checkpoint
# The lab leaves CBT off on this VM, for the other tests: off again at the end.
cbt_off () { "$FERRY_SRCDIR/tests/tools/vsphere-props.py" --set-cbt $VM false > /dev/null; }
end_clean () { clean_vm $VM; }
on_exit cbt_off
on_exit end_clean
clean_vm $VM

# shellcheck disable=SC2086
run_ferry 0 sync $E --enable-cbt
[ "$(jq -r .phase "$S")" = synced ] || fail "phase after sync 1: $(jq -r .phase "$S")"
volumes_match_flat $VM "sync 1"
[ ! -e "$ckpt" ] || rm -f "$ckpt"   # so that the poll below sees the new pass's checkpoint

# The guest writes 64 MiB at 256 MiB: the delta pass takes a moment.
"$FERRY_SRCDIR"/lab/lab guest-write $VM 0 $((256 * 1048576)) $((64 * 1048576)) 11 > /dev/null
# shellcheck disable=SC2086
"$FERRY" sync $E --enable-cbt > "$TMP/run2.out" 2> "$TMP/run2.err" &
pid=$!
# Kill as soon as the copy has started (its checkpoint exists).
wait_for_file "$ckpt" $pid "$TMP/run2.err" "the second sync"
kill -9 $pid
wait $pid 2>/dev/null || :
[ "$(jq -r .phase "$S")" = copying ] ||
    fail "state phase $(jq -r .phase "$S") after the kill (the sync finished before it?)"
snap=$(jq -r .snapshot "$S")
[ "$snap" != null ] || fail "snapshot not recorded"

# The rerun.
# shellcheck disable=SC2086
run_ferry 0 sync $E --enable-cbt
expect_in "$TMP/err" "reusing snapshot $snap"
[ "$(jq -r .phase "$S")" = synced ] || fail "phase after the rerun: $(jq -r .phase "$S")"
volumes_match_flat $VM "after the rerun"
# Only the delta (what the killed pass had not recorded as done), not a full sync.
copied=$(jq -r '.syncs[-1].bytes_copied' "$S")
[ "$copied" -le $((64 * 1048576)) ] || fail "the rerun copied $copied bytes, more than the 64 MiB written"
uuid=$(jq -r .uuid "$S")
[ "$(volumes_of_uuid "$uuid")" = 1 ] || fail "$(volumes_of_uuid "$uuid") volumes for the VM's one disk"
vid=$(jq -r '.volumes["2000"].id' "$S")
cid=$(jq -r '.volumes["2000"].change_id' "$S")
[ "$cid" != null ] || fail "no change id recorded"
meta=$("$OSAPI" GET volumev3 "/volumes/$vid" | jq -r .volume.metadata.changeID)
[ "$meta" = "$cid" ] || fail "state change id $cid != volume changeID $meta"
# shellcheck disable=SC2046
run_ferry 0 discover $(E_LAB) --vm $VM --no-write --format json
[ "$(jq -r '[.[0].snapshots[] | select(.name | startswith("ferry-"))] | length' "$TMP/out")" = 0 ] ||
    fail "ferry's snapshot left on $VM"
"$OSAPI" GET compute "/servers/$(jq -r .conversion_host.id "$FERRY_LAB_OS_JSON")/os-volume_attachments" > "$TMP/ch.json"
[ "$(jq '.volumeAttachments | length' "$TMP/ch.json")" = 0 ] || fail "volumes left on the conversion host"

# No guest write since: a third sync copies nothing.
# shellcheck disable=SC2086
run_ferry 0 sync $E --enable-cbt
[ "$(jq -r '.syncs[-1].bytes_copied' "$S")" = 0 ] ||
    fail "sync 3 copied $(jq -r '.syncs[-1].bytes_copied' "$S") bytes, expected 0"
volumes_match_flat $VM "sync 3"
[ "$(volumes_of_uuid "$uuid")" = 1 ] || fail "sync 3: $(volumes_of_uuid "$uuid") volumes"
[ "$(jq -r '.volumes["2000"].change_id' "$S")" = \
  "$("$OSAPI" GET volumev3 "/volumes/$vid" | jq -r .volume.metadata.changeID)" ] ||
    fail "sync 3: state change id != volume changeID"
