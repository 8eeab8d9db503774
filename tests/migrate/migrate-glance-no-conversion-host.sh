#!/bin/sh
# Without a conversion host (--no-conversion-host): lab-linux-1disk's disk
# is copied to a local image, uploaded to Glance with the VM's properties,
# a volume is made from it, the server boots from that volume; the volume
# equals the flat file; no image and no local file are left behind.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
clean_vm lab-linux-1disk
on_exit clean_lab_linux
clean_lab_linux () { clean_vm lab-linux-1disk; }
# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) -e skip_conversion=true --vm lab-linux-1disk --no-conversion-host
expect_in "$TMP/err" "uploading .* to Glance image"
S=$(state_of lab-linux-1disk)
[ "$(jq -r .phase "$S")" = done ] || fail "phase $(jq -r .phase "$S")"
[ "$(jq -r '.volumes["2000"].via' "$S")" = glance ] || fail "the volume did not come through Glance"
volumes_match_flat lab-linux-1disk "Glance path"
vid=$(jq -r '.volumes["2000"].id' "$S")
"$OSAPI" GET volumev3 "/volumes/$vid" > "$TMP/vol.json"
[ "$(jq -r .volume.bootable "$TMP/vol.json")" = true ] || fail "volume not bootable"
[ "$(jq -r .volume.metadata.ferry_disk_key "$TMP/vol.json")" = 2000 ] || fail "volume metadata"
"$OSAPI" GET compute "/servers/$(jq -r .server.id "$S")" | jq -e '.server.status == "ACTIVE"' > /dev/null ||
    fail "server not ACTIVE"
"$OSAPI" GET image "/v2/images?name=ferry-lab-linux-1disk-2000" | jq -e '.images | length == 0' > /dev/null ||
    fail "the Glance image was left behind"
[ ! -e "$FERRY_LAB_DIR/data/lab-linux-1disk/disk-2000.raw" ] || fail "the local image was left behind"
# Without a conversion host the nothing-attached rule holds trivially; the
# conversion host had nothing to do with it.
