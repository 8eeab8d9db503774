#!/bin/sh
# The proof that conversion works: lab-linux-1disk holds a real Debian guest
# (lab/guest) configured as on VMware (pvscsi-era initramfs, only ens192 in
# /etc/network/interfaces), here in its variant that names its root by
# device in the boot loader (root=/dev/sda1 in /etc/default/grub and
# grub.cfg, tests/bootchain/make-variants), as guests installed with
# GRUB_DISABLE_LINUX_UUID do.  Before: it boots on VMware-like hardware
# (pvscsi + vmxnet3) but not on virtio (tests/bootchain/: boot tests of the
# same variant).  ferry migrates it cold into the
# lab's OpenStack, converting it with virt-v2v-in-place on the conversion
# host (a restore point taken and dropped, the NIC name pinned to the
# VMware MAC), then verifies the boot chain: virt-v2v regenerates grub.cfg
# from /etc/default/grub as "root=UUID=... ro root=/dev/sda1" (the last
# root= wins: unbootable on virtio), ferry rewrites every such name to the
# root's UUID (in the log, the state and the report), boots the volume once
# itself (verify_boot: true) to a login prompt, and only then creates the
# instance.  After: the Cinder volume's file boots under QEMU with a virtio
# disk and a virtio NIC carrying the VMware MAC, to a login prompt, the
# virtio modules loaded and the interface up as ens192 with an address.
# The conversion's changes are listed (virt-diff).  Slow (minutes, TCG).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
BOOT=$FERRY_SRCDIR/lab/guest/boot-guest
MAC=00:50:56:aa:00:01
clean_vm lab-linux-1disk
# The lab's own guest goes back at the end.
clean_lab_linux () {
    clean_vm lab-linux-1disk
    "$FERRY_SRCDIR/lab/lab" guest-install > /dev/null || echo "lab/lab guest-install failed" >&2
}
on_exit clean_lab_linux
FLAT=$(jq -r '.vms[] | select(.name == "lab-linux-1disk") | .disks[0].flat' "$FERRY_LAB_DIR/vcsim/lab.json")
VARIANTS=$("$FERRY_SRCDIR/tests/bootchain/make-variants") || fail "building the guest variants failed"
qemu-img convert -O raw "$VARIANTS/cmdline-sda/disk1.qcow2" "$FLAT.tmp" && mv "$FLAT.tmp" "$FLAT" ||
    fail "cannot install the root-by-device variant as lab-linux-1disk's disk"

# Before: the variant boots on VMware's hardware (pvscsi, vmxnet3: ens192
# up, fstab naming /dev/sda1) but not on virtio (its initramfs has no
# virtio driver, so the boot after conversion tests what the conversion
# did): tests/bootchain/bootchain-sda-variant-boots-on-vmware.sh and
# bootchain-boot-test.sh boot the same cached variant, beside the lab's
# tests (no lab needed there).

# The migration, with conversion.
# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) -e verify_boot=true --vm lab-linux-1disk --report "$TMP/report.json"
expect_in "$TMP/err" "restore point .* taken before the conversion"
expect_in "$TMP/err" "pinned ens192 to $MAC"
expect_in "$TMP/err" "guest converted"
expect_in "$TMP/err" "boot chain verified: [0-9]+ device references?, all resolve on KVM"
expect_in "$TMP/err" "the converted guest booted on KVM's hardware in [0-9]+ s \(a login prompt\)"
S=$(state_of lab-linux-1disk)
[ "$(jq -r .phase "$S")" = done ] || fail "phase $(jq -r .phase "$S")"
[ "$(jq -r .conversion "$S")" = done ] || fail "conversion $(jq -r .conversion "$S")"

# The boot chain: every root=/dev/sdX was rewritten; what changed is in the
# state and the report; ferry's own boot reached a login prompt.
[ "$(jq -r .boot_chain.status "$S")" = ok ] || fail "boot_chain status $(jq -r .boot_chain.status "$S")"
jq -e '[.boot_chain.references[] | select(.state != "resolved" and .state != "fixed" and .state != "unchecked")] | length == 0' \
    "$S" > /dev/null || fail "unresolved references: $(jq -c .boot_chain.references "$S")"
jq -r '.boot_chain.references[] | select(.key == "root=" and (.device | startswith("/dev/sd"))) | .state' \
    "$S" > "$TMP/roots"
[ -s "$TMP/roots" ] || fail "no root=/dev/sdX reference was found in the boot chain"
[ "$(sort -u "$TMP/roots")" = fixed ] || fail "a root=/dev/sdX was not fixed: $(cat "$TMP/roots")"
jq -r '.boot_chain.changes[] | "\(.file):\(.line): \(.old) -> \(.new)"' "$S" > "$TMP/bootchain-changes"
echo "ferry's changes to the converted guest's boot chain:"; sed 's/^/  /' "$TMP/bootchain-changes"
expect_in "$TMP/bootchain-changes" "^/etc/default/grub:[0-9]+: .*root=/dev/sda1.* -> .*root=UUID="
expect_in "$TMP/bootchain-changes" "^/boot/grub/grub.cfg:[0-9]+: .*root=/dev/sda1.* -> .*root=UUID="
jq -e '[.boot_chain.changes[].new | select(test("root=/dev/sd"))] | length == 0' "$S" > /dev/null ||
    fail "a changed line still names root=/dev/sdX"
[ "$(jq -r .boot_check.result "$S")" = booted ] || fail "boot_check $(jq -c .boot_check "$S")"
[ "$(jq -r .boot_check.boot "$S")" = "boot loader" ] || fail "boot_check $(jq -c .boot_check "$S")"
[ "$(jq -r '.[] | select(.vm == "lab-linux-1disk") | .boot_check.result' "$TMP/report.json")" = booted ] ||
    fail "the report has no boot_check"
jq -e '.[] | select(.vm == "lab-linux-1disk") | .boot_chain.changes | length > 0' "$TMP/report.json" > /dev/null ||
    fail "the report does not list the boot chain's changes"
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
expect_in "$TMP/after.marker" "fstab=/dev/vda1"
