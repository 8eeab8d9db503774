#!/bin/sh
# A root on LVM (/boot on sda1, root on ferryvg/root) named through the LV
# everywhere: root=/dev/mapper/ferryvg-root and rd.lvm.lv=ferryvg/root on
# the kernel command line, fstab by /dev/mapper name, /boot by UUID: all
# resolve (the LV exists).  The only hazard is lvm.conf's global_filter,
# which accepts /dev/sda2 alone and would hide the PV on /dev/vda2: fixable
# (a read-only run says so, exit 1); no initramfs rebuild would follow, as
# the guest's initramfs has no LVM hook.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/bootchain/bootchain-functions.sh"
BOOT_UUID=b007b007-1111-4222-8333-944455556666
overlay lvm-root

verify 1
expect_json '.status == "needs-fix" and .os.root == "/dev/ferryvg/root"'
expect_json '[.references[] | select(.file == "/boot/grub/grub.cfg" and .key == "root=" and .state == "resolved"
              and .device == "/dev/mapper/ferryvg-root")] | length >= 2'
expect_json '[.references[] | select(.file == "/boot/grub/grub.cfg" and .key == "rd.lvm.lv=" and .state == "resolved"
              and .target == "/dev/ferryvg/root")] | length >= 2'
expect_ref /etc/default/grub 5 rd.lvm.lv= resolved ferryvg/root
expect_ref /etc/fstab 2 / resolved /dev/mapper/ferryvg-root
expect_ref /etc/fstab 3 /boot resolved "UUID=$BOOT_UUID"
expect_json '[.references[] | select(.file == "/etc/fstab" and .line == 3)][0].target == "/dev/vda1"'
expect_ref /etc/lvm/lvm.conf 3 global_filter fixable /dev/sda2 /dev/vda2
expect_json '[.references[] | select(.file == "/etc/lvm/lvm.conf")] | length == 1'
expect_json '(.changes | length) == 0 and .initramfs.command == null'
expect_in "$TMP/err" "some references do not resolve on KVM; --fix rewrites them"
