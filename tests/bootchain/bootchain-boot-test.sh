#!/bin/sh
# ferry verify-boot --boot on the lab guest as VMware left it (its initramfs
# has no virtio driver: it cannot find its root on virtio-blk): the boot
# chain is fixed first (fstab's /dev/sda1 -> UUID=), then the boot test
# boots the disk once under QEMU through the guest's own boot loader (its
# grub.cfg says console=ttyS0), sees the initramfs wait for its root device
# and says so: exit 6, the verdict in the JSON ("failed", "boot loader"),
# the console kept for the operator, within a few minutes (the root wait
# ends it, not the whole timeout).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/bootchain/bootchain-functions.sh"
command -v qemu-system-x86_64 > /dev/null || { echo "SKIP: qemu-system-x86 is not installed"; exit 77; }
BASE=$("$FERRY_SRCDIR/lab/guest/build-guest" --print-path)
[ -f "$BASE" ] || fail "the lab guest image is missing: lab/lab guest-install"
qemu-img create -q -f qcow2 -F raw -b "$BASE" "$TMP/guest.qcow2" || fail "qemu-img create"
DISKS=$TMP/guest.qcow2

t0=$(date +%s)
verify 6 --fix --boot --boot-timeout 400
t1=$(date +%s)
expect_json '.status == "ok"'
expect_json '.boot_check.result == "failed" and .boot_check.boot == "boot loader"'
expect_json '.boot_check.reason | test("waiting for its root device|no root device|gave up waiting")'
expect_in "$TMP/err" "verify-boot: the guest did NOT boot: .*; its console is kept: "
console=$(sed -n 's/.*its console is kept: //p' "$TMP/err" | tail -1)
[ -s "$console" ] || fail "the console $console was not kept"
grep -q "Linux version" "$console" || fail "the console shows no kernel: $(tail -5 "$console")"
rm -rf "$(dirname "$console")"
[ $((t1 - t0)) -lt 400 ] || fail "the failed boot took the whole timeout ($((t1 - t0)) s)"
