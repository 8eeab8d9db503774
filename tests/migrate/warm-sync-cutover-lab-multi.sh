#!/bin/sh
# Warm migration of lab-multi: sync, the guest writes to two disks, sync,
# the guest writes again, cutover.  After each pass every volume equals its
# flat file; the second and third passes copy exactly the written ranges
# (rounded to CBT's 64 KiB blocks); the change ids advance in the volumes'
# metadata; one snapshot per pass for all disks, none left at the end; the
# VM is powered off before the final snapshot and stays off; status shows
# the syncs, a predicted downtime and the measured one.  Rollback powers the
# VM on again and removes the destination.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
E="$(E_LAB) -e skip_conversion=true --vm lab-multi"
# A clean start: nothing on the destination, the VM running.
# shellcheck disable=SC2086
run_ferry 0 rollback $E
S=$(state_of lab-multi)
V=$FERRY_LAB_DIR/vcsim/lab.json
SNAPLOG=$FERRY_LAB_DIR/vcsim/snapshots.log
change_ids () { jq -c '[.volumes[] | .change_id]' "$S"; }
snaps_before=$(grep -c " lab-multi " "$SNAPLOG" 2>/dev/null || echo 0)

# shellcheck disable=SC2086
run_ferry 0 sync $E
[ "$(jq -r .phase "$S")" = synced ] || fail "phase after sync 1: $(jq -r .phase "$S")"
volumes_match_flat lab-multi "sync 1"
ids1=$(change_ids)
[ "$(echo "$ids1" | jq 'map(select(. != null)) | length')" = 3 ] || fail "change ids not recorded: $ids1"
vid0=$(jq -r '.volumes["2000"].id' "$S")
[ "$("$OSAPI" GET volumev3 "/volumes/$vid0" | jq -r .volume.metadata.changeID)" = "$(jq -r '.volumes["2000"].change_id' "$S")" ] ||
    fail "changeID metadata not set on the volume"
[ "$("$OSAPI" GET volumev3 "/volumes/$vid0" | jq -r .volume.metadata.osm)" = true ] ||
    fail "the metadata update dropped osm=true"

# The guest writes: 71000 bytes at 5 MiB + 1000 on disk 0 (two 64 KiB
# blocks), 4 KiB at 100 MiB on disk 1 (one block).
"$FERRY_SRCDIR"/lab/lab guest-write lab-multi 0 $((5 * 1048576 + 1000)) 71000 7 > /dev/null
"$FERRY_SRCDIR"/lab/lab guest-write lab-multi 1 $((100 * 1048576)) 4096 8 > /dev/null
# shellcheck disable=SC2086
run_ferry 0 sync $E
volumes_match_flat lab-multi "sync 2"
[ "$(jq -r '.syncs[1].bytes_copied' "$S")" = $((3 * 65536)) ] ||
    fail "sync 2 copied $(jq -r '.syncs[1].bytes_copied' "$S") bytes, expected 3 blocks of 64 KiB"
[ "$(jq -r '.syncs[1].bytes_changed' "$S")" = $((3 * 65536)) ] || fail "sync 2: bytes_changed"
ids2=$(change_ids)
[ "$ids2" != "$ids1" ] || fail "change ids did not advance"

"$FERRY_SRCDIR"/lab/lab guest-write lab-multi 2 0 65536 9 > /dev/null
# shellcheck disable=SC2086
run_ferry 0 cutover $E -e force_power_off=true -e shutdown_timeout=5
expect_in "$TMP/err" "cutover downtime"
volumes_match_flat lab-multi "cutover"
[ "$(jq -r '.syncs[2].bytes_copied' "$S")" = 65536 ] ||
    fail "cutover copied $(jq -r '.syncs[2].bytes_copied' "$S") bytes, expected one 64 KiB block"
[ "$(jq -r .phase "$S")" = done ] || fail "phase after cutover"
# One snapshot per pass, for all disks at once; the last one taken while off.
snaps=$(grep " lab-multi " "$SNAPLOG" | tail -n +$((snaps_before + 1)))
[ "$(echo "$snaps" | wc -l)" = 3 ] || fail "expected 3 snapshots (one per pass), got: $snaps"
echo "$snaps" | tail -1 | grep -q " poweredOff$" || fail "final snapshot taken while the VM ran: $snaps"
echo "$snaps" | head -2 | grep -q " poweredOn$" || fail "syncs should run with the VM on"
run_ferry 0 discover $(E_LAB) --vm lab-multi --no-write --format json
[ "$(jq -r '.[0].power_state' "$TMP/out")" = poweredOff ] || fail "source VM not left powered off"
[ "$(jq -r '[.[0].snapshots[] | select(.name | startswith("ferry-"))] | length' "$TMP/out")" = 0 ] ||
    fail "ferry's snapshot left behind"
# Status: syncs oldest first, a prediction, the downtime.
run_ferry 0 status $(E_LAB) --vm lab-multi --format json
[ "$(jq -r '.[0].syncs | length' "$TMP/out")" = 3 ] || fail "status: syncs"
for k in started duration_s bytes_changed bytes_copied; do
    [ "$(jq -r ".[0].syncs[0].$k" "$TMP/out")" != null ] || fail "status: syncs[0].$k"
done
[ "$(jq -r '.[0].syncs[1].disks["2000"].change_id' "$TMP/out")" != null ] || fail "status: per-disk change id"
[ "$(jq -r '.[0].predicted_downtime_s' "$TMP/out")" != null ] || fail "status: predicted_downtime_s"
[ "$(jq -r '.[0].downtime_s' "$TMP/out")" != null ] || fail "status: downtime_s"
"$OSAPI" GET compute "/servers/$(jq -r .server.id "$S")" | jq -e '.server.status == "ACTIVE"' > /dev/null ||
    fail "server not ACTIVE after cutover"
# Rollback: the destination goes, the source runs again.
# shellcheck disable=SC2086
run_ferry 0 rollback $E
run_ferry 0 discover $(E_LAB) --vm lab-multi --no-write --format json
[ "$(jq -r '.[0].power_state' "$TMP/out")" = poweredOn ] || fail "rollback did not power the VM on"
[ "$(volumes_of_uuid "$(jq -r .uuid "$S")")" = 0 ] || fail "rollback left volumes"
