#!/bin/sh
# The proof that conversion works: lab-linux-1disk holds a real Debian guest
# (lab/guest) configured as on VMware (pvscsi-era initramfs, only ens192 in
# /etc/network/interfaces).  Before: it boots on VMware-like hardware
# (pvscsi + vmxnet3) but NOT on virtio.  ferry migrates it cold into the
# lab's OpenStack, converting it with virt-v2v-in-place on the conversion
# host (a restore point taken and dropped, the NIC name pinned to the
# VMware MAC).  After: the Cinder volume's file boots under QEMU with a
# virtio disk and a virtio NIC carrying the VMware MAC, to a login prompt,
# the virtio modules loaded and the interface up as ens192 with an address.
# The conversion's changes are listed (virt-diff).  Slow (minutes, TCG).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
BOOT=$FERRY_SRCDIR/lab/guest/boot-guest
MAC=00:50:56:aa:00:01
"$FERRY_SRCDIR/lab/lab" guest-install > /dev/null || fail "lab/lab guest-install failed"
clean_vm lab-linux-1disk
on_exit clean_lab_linux
clean_lab_linux () { clean_vm lab-linux-1disk; }
FLAT=$(jq -r '.vms[] | select(.name == "lab-linux-1disk") | .disks[0].flat' "$FERRY_LAB_DIR/vcsim/lab.json")

# Before: VMware hardware boots it; virtio does not (so the boot after
# conversion tests what the conversion did).
"$BOOT" --disk-bus pvscsi --nic-model vmxnet3 --mac $MAC --log "$TMP/before-vmware.log" "$FLAT" \
    > "$TMP/before-vmware.marker" 2> "$TMP/before-vmware.err" || {
    cat "$TMP/before-vmware.err"; fail "the unconverted guest does not boot on pvscsi/vmxnet3"; }
expect_in "$TMP/before-vmware.marker" "ifaces=.*ens192:$MAC:UP:[0-9]"
if "$BOOT" --disk-bus virtio --nic-model virtio-net-pci --mac $MAC --timeout 180 \
    --log "$TMP/before-virtio.log" "$FLAT" > /dev/null 2>&1; then
    fail "the unconverted guest boots on virtio: the boot test would not test the conversion"
fi

# The migration, with conversion.
# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) --vm lab-linux-1disk
expect_in "$TMP/err" "restore point .* taken before the conversion"
expect_in "$TMP/err" "pinned ens192 to $MAC"
expect_in "$TMP/err" "guest converted"
S=$(state_of lab-linux-1disk)
[ "$(jq -r .phase "$S")" = done ] || fail "phase $(jq -r .phase "$S")"
[ "$(jq -r .conversion "$S")" = done ] || fail "conversion $(jq -r .conversion "$S")"
[ -s "$FERRY_LAB_DIR/data/lab-linux-1disk/virt-v2v.log" ] || fail "virt-v2v's log is not in the VM's data dir"
vid=$(jq -r '.volumes["2000"].id' "$S")
"$OSAPI" GET volumev3 "/volumes/$vid" > "$TMP/vol.json"
[ "$(jq -r .volume.metadata.converted "$TMP/vol.json")" = true ] || fail "converted is not true"
"$OSAPI" GET volumev3 "/snapshots/detail?volume_id=$vid" | jq -e '.snapshots | length == 0' > /dev/null ||
    fail "the restore point was not deleted after a successful conversion"
"$OSAPI" GET compute "/servers/$(jq -r .server.id "$S")" | jq -e '.server.status == "ACTIVE"' > /dev/null ||
    fail "server not ACTIVE"
VOL=$FERRY_LAB_VOLUMES/volume-$vid

# After: KVM's hardware, the VMware MAC.
"$BOOT" --disk-bus virtio --nic-model virtio-net-pci --mac $MAC --log "$TMP/after.log" "$VOL" \
    > "$TMP/after.marker" 2> "$TMP/after.err" || {
    cat "$TMP/after.err"; fail "the converted guest does not boot on virtio"; }
cat "$TMP/after.marker"
expect_in "$TMP/after.marker" "virtio=[^ ]*virtio_blk"
expect_in "$TMP/after.marker" "virtio=[^ ]*virtio_net"
expect_in "$TMP/after.marker" "ifaces=(.*;)?ens192:$MAC:UP:[0-9]"
expect_in "$TMP/after.log" "login: "

# What the conversion changed, listed: files whose content changed ("="),
# added or removed (virt-diff also lists files whose metadata alone differs,
# as a "-" and a "+" line: those are left out).
LIBGUESTFS_BACKEND=direct virt-diff --format=raw -a "$FLAT" -A "$VOL" > "$TMP/diff.txt" 2> "$TMP/diff.err" ||
    { cat "$TMP/diff.err"; fail "virt-diff failed"; }
awk '{ p = $NF; if ($(NF - 1) == "->") p = $(NF - 2) }
     /^=/ { print "changed " p; next }
     /^-/ { m[p] = 1 } /^\+/ { a[p] = 1 }
     END { for (p in m) if (!(p in a)) print "removed " p
           for (p in a) if (!(p in m)) print "added   " p }' "$TMP/diff.txt" |
    grep -Ev ' /(var/log|var/cache|var/lib/(dpkg|apt|systemd|ucf)|tmp)/' | sort -k2 > "$TMP/changes.txt"
echo "The conversion's changes:"
sed 's/^/  /' "$TMP/changes.txt"
expect_in "$TMP/changes.txt" "^changed /boot/initrd.img-"
expect_in "$TMP/changes.txt" "^changed /etc/fstab$"
expect_in "$TMP/changes.txt" "^added   /etc/udev/rules.d/70-ferry-persistent-net.rules$"
expect_in "$TMP/changes.txt" "^added   /etc/systemd/network/10-ferry-ens192.link$"
expect_in "$TMP/before-vmware.marker" "fstab=/dev/sda1"
expect_in "$TMP/after.marker" "fstab=/dev/vda1"
