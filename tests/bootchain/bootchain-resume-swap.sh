#!/bin/sh
# Swap on the second disk named by device for hibernation: fstab's swap
# line, resume= in grub.cfg and /etc/default/grub, and initramfs-tools'
# RESUME.  Each maps to /dev/vdb1, which is swap, and is rewritten to its
# UUID; RESUME is in the initramfs, so update-initramfs runs inside the
# guest (and only then).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/bootchain/bootchain-functions.sh"
export SWAP_UUID=0e5a7b1c-2d3e-4f50-8a6b-7c8d9e0f1a2b
overlay resume-swap

verify 0 --fix
expect_ref /etc/fstab 3 swap fixed /dev/sdb1 "UUID=$SWAP_UUID"
expect_ref /etc/initramfs-tools/conf.d/resume 1 RESUME fixed /dev/sdb1 "UUID=$SWAP_UUID"
expect_ref /etc/default/grub 5 resume= fixed /dev/sdb1 "UUID=$SWAP_UUID"
expect_json '[.references[] | select(.file == "/boot/grub/grub.cfg" and .key == "resume=" and .state == "fixed"
              and .replacement == "UUID=\(env.SWAP_UUID)")] | length >= 2'
expect_json '[.references[] | select(.key == "resume=" or .key == "RESUME" or .key == "swap")
              | .target] | unique == ["/dev/vdb1"]'
expect_json '.initramfs.rebuilt == true and .initramfs.command == "update-initramfs -u -k all"
             and .initramfs.reason == "/etc/initramfs-tools/conf.d/resume"'
expect_in "$TMP/err" "rebuilding the initramfs inside the guest \\(update-initramfs -u -k all\\)"
expect_in "$TMP/guestfs.log" "update-initramfs: Generating /boot/initrd.img-"
