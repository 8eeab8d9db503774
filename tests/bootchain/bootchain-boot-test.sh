#!/bin/sh
# ferry verify-boot --boot on the lab guest as VMware left it (its initramfs
# has no virtio driver: it cannot find its root on virtio-blk), made silent
# on the serial console as most VMware guests are (no console=ttyS0 in its
# boot loader): the boot chain is fixed first (fstab's /dev/sda1 ->
# UUID=), the default entry's kernel and initramfs are read out of the
# guest, and the boot test boots them directly with the entry's command line
# plus console=ttyS0, sees the initramfs wait for its root device and says
# so: exit 6, the verdict in the JSON ("failed", "default entry's kernel"),
# the console (kernel messages included) kept for the operator, within a
# few minutes (the root wait ends it, not the whole timeout).  The boot
# through the guest's own boot loader, and a boot that succeeds, are in
# tests/convert/convert-lab-linux-boots-on-kvm.sh.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/bootchain/bootchain-functions.sh"
command -v qemu-system-x86_64 > /dev/null || { echo "SKIP: qemu-system-x86 is not installed"; exit 77; }
BASE=$("$FERRY_SRCDIR/lab/guest/build-guest" --print-path)
[ -f "$BASE" ] || fail "the lab guest image is missing: lab/lab guest-install"
qemu-img create -q -f qcow2 -F raw -b "$BASE" "$TMP/guest.qcow2" || fail "qemu-img create"
DISKS=$TMP/guest.qcow2
guestfish --format=qcow2 -a "$DISKS" -i \
    command "sed -i s/console=ttyS0,115200n8//g /etc/default/grub /boot/grub/grub.cfg" ||
    fail "cannot take the serial console out of the guest's boot loader"

t0=$(date +%s)
verify 6 --fix --boot --boot-timeout 400
t1=$(date +%s)
expect_json '.status == "ok"'
expect_json '.boot_check.result == "failed" and .boot_check.boot == "default entry'"'"'s kernel"'
expect_in "$TMP/err" "boot loader does not write to the serial console: the boot test boots its default entry's kernel"
expect_json '.boot_check.reason | test("waiting for its root device|no root device|gave up waiting")'
expect_in "$TMP/err" "verify-boot: the guest did NOT boot: .*; its console is kept: "
console=$(sed -n 's/.*its console is kept: //p' "$TMP/err" | tail -1)
[ -s "$console" ] || fail "the console $console was not kept"
grep -q "Linux version" "$console" || fail "the console shows no kernel: $(tail -5 "$console")"
rm -rf "$(dirname "$console")"
[ $((t1 - t0)) -lt 400 ] || fail "the failed boot took the whole timeout ($((t1 - t0)) s)"
