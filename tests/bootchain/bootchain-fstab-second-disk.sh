#!/bin/sh
# fstab mounts a filesystem of the second disk by device name (/dev/sdb1):
# mapped through the attach order to /dev/vdb1, an ext4 as the line says,
# rewritten to its UUID (the fix reads the file back and judges it again;
# bootchain-kernel-cmdline-sda.sh adds a second run on a fresh appliance).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/bootchain/bootchain-functions.sh"
export ROOT_UUID=8d1c6a52-4f0e-4b7a-9c39-f3e7a0c1d2b4
export DATA_UUID=5f1e2d3c-0b0a-4999-8888-777766665555
overlay fstab-second-disk

verify 0 --fix
expect_ref /etc/fstab 3 /srv/data fixed /dev/sdb1 "UUID=$DATA_UUID"
expect_json '[.references[] | select(.file == "/etc/fstab" and .line == 3)][0].target == "/dev/vdb1"'
expect_ref /etc/fstab 2 / fixed /dev/sda1 "UUID=$ROOT_UUID"
expect_json '[.changes[] | select(.file == "/etc/fstab" and .line == 3
              and .new == "UUID=\(env.DATA_UUID) /srv/data ext4 defaults 0 2")] | length == 1'
expect_json '.initramfs.rebuilt == false and .disks == 2'

