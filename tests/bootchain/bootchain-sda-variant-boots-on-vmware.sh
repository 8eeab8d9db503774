#!/bin/sh
# The guest that tests/convert/convert-lab-linux-boots-on-kvm.sh migrates
# (make-variants' cmdline-sda: root=/dev/sda1 in the boot loader, as
# guests installed with GRUB_DISABLE_LINUX_UUID name it) is a working
# VMware guest before ferry touches it: on VMware's hardware (pvscsi disk,
# vmxnet3 NIC in PCIe slot 192) it boots to a login prompt with its
# interface up as ens192 and its fstab naming /dev/sda1.  So what the
# conversion test finds after converting is the conversion's doing.  That
# the same initramfs does not boot on virtio is bootchain-boot-test.sh's
# finding.  Here, not in the conversion test: it needs no lab, and runs
# beside the lab's tests.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/bootchain/bootchain-functions.sh"
command -v qemu-system-x86_64 > /dev/null || { echo "SKIP: qemu-system-x86 is not installed"; exit 77; }
MAC=00:50:56:aa:00:01
qemu-img convert -O raw "$VARIANTS/cmdline-sda/disk1.qcow2" "$TMP/disk.raw" ||
    fail "cannot read the cmdline-sda variant"
"$FERRY_SRCDIR/lab/guest/boot-guest" --disk-bus pvscsi --nic-model vmxnet3 --mac $MAC \
    --log "$TMP/console.log" "$TMP/disk.raw" > "$TMP/marker" 2> "$TMP/boot.err" || {
    cat "$TMP/boot.err"; fail "the cmdline-sda variant does not boot on pvscsi/vmxnet3"; }
cat "$TMP/marker"
grep -q "root=/dev/sda1" "$TMP/console.log" ||
    fail "the variant's kernel command line does not name root=/dev/sda1"
expect_in "$TMP/marker" "ifaces=.*ens192:$MAC:UP:[0-9]"
expect_in "$TMP/marker" "fstab=/dev/sda1"
