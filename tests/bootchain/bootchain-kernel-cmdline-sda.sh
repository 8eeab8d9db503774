#!/bin/sh
# A guest whose kernel command line names its root by device (root=/dev/sda1
# in grub.cfg's entries and in /etc/default/grub, as with
# GRUB_DISABLE_LINUX_UUID) and whose fstab does too: every place is listed,
# none resolves on virtio-blk, --fix rewrites each to the root's UUID
# (grub.cfg edited in place), no initramfs rebuild (initramfs-tools holds
# neither file), and a second run, on a fresh appliance, finds them all
# resolved.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/bootchain/bootchain-functions.sh"
export ROOT_UUID=8d1c6a52-4f0e-4b7a-9c39-f3e7a0c1d2b4
overlay cmdline-sda

verify 0 --fix
for l in $(jq -r '.references[] | select(.file == "/boot/grub/grub.cfg") | .line' "$TMP/out"); do
    expect_ref /boot/grub/grub.cfg "$l" root= fixed /dev/sda1 "UUID=$ROOT_UUID"
done
expect_json '[.references[] | select(.file == "/boot/grub/grub.cfg" and .key == "root=")] | length >= 2'
expect_ref /etc/default/grub 5 root= fixed /dev/sda1 "UUID=$ROOT_UUID"
expect_ref /etc/fstab 2 / fixed /dev/sda1 "UUID=$ROOT_UUID"
expect_json '.status == "ok" and (.refusals | length) == 0 and .os.root == "/dev/vda1"'
expect_json '[.references[] | select(.state != "fixed")] | length == 0'
expect_json '[.changes[] | select(.file == "/etc/fstab" and .line == 2
              and .old == "/dev/sda1 / ext4 errors=remount-ro 0 1"
              and .new == "UUID=\(env.ROOT_UUID) / ext4 errors=remount-ro 0 1")] | length == 1'
expect_json '[.changes[] | select(.file == "/etc/default/grub"
              and .new == "GRUB_CMDLINE_LINUX=\"root=UUID=\(env.ROOT_UUID) console=ttyS0,115200n8\"")] | length == 1'
expect_json '.initramfs.rebuilt == false and .initramfs.tool == "initramfs-tools"'
# Each change is logged (file, old, new).
expect_in "$TMP/err" "bootchain: /etc/fstab:2: '/dev/sda1 / ext4 errors=remount-ro 0 1' -> 'UUID=$ROOT_UUID / ext4"
expect_in "$TMP/err" "bootchain: /boot/grub/grub.cfg:[0-9]+: '.*root=/dev/sda1 .*' -> '.*root=UUID=$ROOT_UUID "

# A second run: everything resolves; the table names the root's UUID.
t0=$(date +%s)
# shellcheck disable=SC2086
run_ferry 0 verify-boot --disk-format qcow2 $DISKS
echo "verify-boot (table, exit 0): $(( $(date +%s) - t0 )) s"
cat "$TMP/out"
expect_in "$TMP/out" "^resolved +/boot/grub/grub.cfg:[0-9]+ +root= +UUID=$ROOT_UUID +/dev/vda1"
expect_in "$TMP/out" "^resolved +/etc/fstab:2 +/ +UUID=$ROOT_UUID +/dev/vda1"
expect_in "$TMP/out" "^ok: 5 references: 5 resolved, 0 fixed, 0 fixable, 0 refused"
