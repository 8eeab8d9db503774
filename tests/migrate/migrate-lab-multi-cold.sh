#!/bin/sh
# lab-multi migrates cold into the lab's OpenStack: three volumes whose
# contents equal the simulator's flat files byte for byte, in disk order,
# the boot volume bootable with the VM's firmware properties; two ports with
# the VMware MACs on the mapped networks; a server ACTIVE with a flavor that
# fits; no snapshot left on the source; nothing left attached to the
# conversion host.  A second run is a no-op.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
clean_vm lab-multi
# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) -e skip_conversion=true --vm lab-multi
cp "$TMP/err" "$TMP/migrate.err"
S=$(state_of lab-multi)
[ "$(jq -r .phase "$S")" = done ] || fail "phase $(jq -r .phase "$S")"
V=$FERRY_LAB_DIR/vcsim/lab.json
i=0
for key in $(jq -r '.vms[] | select(.name == "lab-multi") | .disks[].key' "$V"); do
    vid=$(jq -r --arg k "$key" '.volumes[$k].id' "$S")
    flat=$(jq -r --argjson i $i '.vms[] | select(.name == "lab-multi") | .disks[$i].flat' "$V")
    cap=$(jq -r --argjson i $i '.vms[] | select(.name == "lab-multi") | .disks[$i].capacity' "$V")
    cmp -n "$cap" "$flat" "$FERRY_LAB_VOLUMES/volume-$vid" || fail "disk $key: volume $vid differs from $flat"
    "$OSAPI" GET volumev3 "/volumes/$vid" > "$TMP/vol.json"
    [ "$(jq -r .volume.metadata.osm "$TMP/vol.json")" = true ] || fail "volume $vid: osm metadata"
    [ "$(jq -r .volume.metadata.ferry_disk_key "$TMP/vol.json")" = "$key" ] || fail "volume $vid: disk key"
    [ "$(jq -r .volume.volume_type "$TMP/vol.json")" = lab-localds0 ] || fail "volume $vid: volume type"
    [ "$(jq -r .volume.status "$TMP/vol.json")" = in-use ] || fail "volume $vid: not attached to the server"
    i=$((i + 1))
done
[ $i = 3 ] || fail "expected 3 disks, saw $i"
boot=$(jq -r '.volumes["2000"].id' "$S")
"$OSAPI" GET volumev3 "/volumes/$boot" > "$TMP/boot.json"
[ "$(jq -r .volume.bootable "$TMP/boot.json")" = true ] || fail "boot volume not bootable"
[ "$(jq -r .volume.volume_image_metadata.hw_firmware_type "$TMP/boot.json")" = uefi ] ||
    fail "boot volume: hw_firmware_type (lab-multi is EFI)"
sid=$(jq -r .server.id "$S")
"$OSAPI" GET compute "/servers/$sid" > "$TMP/server.json"
[ "$(jq -r .server.status "$TMP/server.json")" = ACTIVE ] || fail "server not ACTIVE"
[ "$(jq -r .server.flavor.vcpus "$TMP/server.json")" -ge 4 ] || fail "flavor has fewer vCPUs than the VM"
[ "$(jq -r .server.flavor.ram "$TMP/server.json")" -ge 8192 ] || fail "flavor has less RAM than the VM"
# Volumes in disk order: the boot device is the first disk's volume.
"$OSAPI" GET compute "/servers/$sid/os-volume_attachments" > "$TMP/att.json"
[ "$(jq -r '.volumeAttachments | length' "$TMP/att.json")" = 3 ] || fail "server has not 3 volumes"
# Ports: the VMware MACs on the mapped networks.
"$OSAPI" GET network "/ports?device_id=$sid" > "$TMP/ports.json"
for pair in "00:50:56:aa:01:01 lab-vm-network" "00:50:56:aa:01:02 lab-dvpg"; do
    mac=${pair% *}; net=${pair#* }
    netid=$(jq -r --arg n "$net" '.networks[$n].id' "$FERRY_LAB_DIR/openstack/lab.json")
    [ "$(jq -r --arg m "$mac" '.ports[] | select(.mac_address == $m) | .network_id' "$TMP/ports.json")" = "$netid" ] ||
        fail "no port with MAC $mac on $net"
done
# The source: no snapshot of ferry's left.
run_ferry 0 discover $(E_LAB) --vm lab-multi --no-write --format json
[ "$(jq -r '[.[0].snapshots[] | select(.name | startswith("ferry-"))] | length' "$TMP/out")" = 0 ] ||
    fail "ferry's snapshot left on lab-multi"
# Nothing left on the conversion host.
"$OSAPI" GET compute "/servers/$(jq -r .conversion_host.id "$FERRY_LAB_DIR/openstack/lab.json")/os-volume_attachments" > "$TMP/ch.json"
[ "$(jq -r --arg b "$boot" '[.volumeAttachments[] | select(.volumeId == $b)] | length' "$TMP/ch.json")" = 0 ] ||
    fail "volume left attached to the conversion host"
# Status shows it.
run_ferry 0 status $(E_LAB) --vm lab-multi --format json
[ "$(jq -r '.[0].phase' "$TMP/out")" = done ] || fail "status phase"
[ "$(jq -r '.[0].server.id' "$TMP/out")" = "$sid" ] || fail "status server"
# A second run is a no-op.
run_ferry 0 migrate $(E_LAB) -e skip_conversion=true --vm lab-multi
expect_in "$TMP/err" "already migrated"
[ "$(volumes_of_uuid "$(jq -r .uuid "$S")")" = 3 ] || fail "the rerun made volumes"
