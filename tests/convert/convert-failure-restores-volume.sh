#!/bin/sh
# A conversion that fails midway (the guest's update-initramfs is missing,
# so virt-v2v-in-place has already changed the guest when it fails):
# ferry restores the volume from the restore point it took before
# converting (the volume equals the copied disk again, byte for byte),
# reports virt-v2v's reason, exits 6 (conversion), creates no instance and
# no ports, leaves no restore point; a rerun goes on without copying again.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
"$FERRY_SRCDIR/lab/lab" guest-install > /dev/null || fail "lab/lab guest-install failed"
clean_vm lab-linux-1disk
on_exit clean_lab_linux
# The source disk is put back as the lab built it.
clean_lab_linux () { clean_vm lab-linux-1disk; "$FERRY_SRCDIR/lab/lab" guest-install > /dev/null; }
FLAT=$(jq -r '.vms[] | select(.name == "lab-linux-1disk") | .disks[0].flat' "$FERRY_LAB_DIR/vcsim/lab.json")
# Break the guest (as a damaged VM would be): no update-initramfs.
LIBGUESTFS_BACKEND=direct guestfish --format=raw -a "$FLAT" -m /dev/sda1 \
    rm /usr/sbin/update-initramfs > "$TMP/gf.out" 2>&1 || { cat "$TMP/gf.out"; fail "guestfish"; }

# shellcheck disable=SC2046
run_ferry 6 migrate $(E_LAB) --vm lab-linux-1disk
expect_in "$TMP/err" "restore point .* taken before the conversion"
expect_in "$TMP/err" "virt-v2v-in-place failed"
expect_in "$TMP/err" "update-initramfs"
expect_in "$TMP/err" "restored from restore point"
expect_in "$TMP/err" "conversion failed: no instance was created"
S=$(state_of lab-linux-1disk)
[ "$(jq -r .conversion "$S")" = "failed, volumes restored" ] || fail "conversion state $(jq -r .conversion "$S")"
[ "$(jq -r '.server.id // empty' "$S")" = "" ] || fail "a server was created"
[ "$(jq -r '.ports // {} | length' "$S")" = 0 ] || fail "ports were created"
# virt-v2v really changed the guest before failing ...
grep -Eq "Converting|Mapping filesystem|Inspecting" "$FERRY_LAB_DIR/data/lab-linux-1disk/virt-v2v.log" ||
    fail "virt-v2v failed before touching the guest: this test would not show a restore"
# ... and the volume is back to what was copied.
volumes_match_flat lab-linux-1disk "after the restore"
vid=$(jq -r '.volumes["2000"].id' "$S")
"$OSAPI" GET volumev3 "/volumes/$vid" > "$TMP/vol.json"
[ "$(jq -r .volume.status "$TMP/vol.json")" = available ] || fail "volume $(jq -r .volume.status "$TMP/vol.json")"
[ "$(jq -r '.volume.metadata.converted // "unset"' "$TMP/vol.json")" != true ] || fail "converted=true after a failure"
"$OSAPI" GET volumev3 "/snapshots/detail?volume_id=$vid" | jq -e '.snapshots | length == 0' > /dev/null ||
    fail "a restore point was left behind"
# A rerun goes on from the restored volume without copying again (here the
# operator chose to migrate the broken guest unconverted).
# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) -e skip_conversion=true --vm lab-linux-1disk
expect_in "$TMP/err" "already copied"
expect_not_in "$TMP/err" "copying it again"
[ "$(jq -r .phase "$S")" = done ] || fail "rerun: phase $(jq -r .phase "$S")"
volumes_match_flat lab-linux-1disk "after the rerun"
