#!/bin/sh
# Conversion is verified, not assumed (issue 21): a guest whose boot chain
# names a disk that will not exist on KVM and cannot be rewritten (the
# "unfixable" variant of the lab guest, tests/bootchain/make-variants:
# /dev/sdc1 in fstab, and there is no third disk) is migrated with
# conversion: after virt-v2v, ferry refuses it naming the file, the line and
# what to do, exit 6, no server, the volume restored to the copied disk
# (byte for byte) and its restore point gone.  (The fixable case, fixed and
# booted, is convert-lab-linux-boots-on-kvm.sh: one conversion each, as
# they cost minutes under TCG.)  The lab's own guest is put back at the end.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
command -v virt-v2v-in-place >/dev/null || { echo "SKIP: virt-v2v not installed"; exit 77; }
VM=lab-linux-1disk
S=$(state_of $VM)
FLAT=$(jq -r --arg vm $VM '.vms[] | select(.name == $vm) | .disks[0].flat' "$FERRY_LAB_DIR/vcsim/lab.json")
VARIANTS=$("$FERRY_SRCDIR/tests/bootchain/make-variants") || fail "building the guest variants failed"
restore_guest () {
    clean_vm $VM
    "$FERRY_SRCDIR/lab/lab" guest-install > /dev/null || echo "lab/lab guest-install failed" >&2
}
on_exit restore_guest
# use_variant NAME: the variant's first disk becomes the VM's disk.
use_variant () {
    clean_vm $VM
    qemu-img convert -O raw "$VARIANTS/$1/disk1.qcow2" "$FLAT.tmp" && mv "$FLAT.tmp" "$FLAT" ||
        fail "cannot install the variant $1 as $VM's disk"
    [ "$(stat -c %s "$FLAT")" = 2147483648 ] || fail "variant $1: not a 2 GiB disk"
}

use_variant unfixable
# shellcheck disable=SC2046
run_ferry 6 migrate $(E_LAB) --vm $VM
expect_in "$TMP/err" "/etc/fstab line [0-9]+: /dev/sdc1"
expect_in "$TMP/err" "the converted guest would not boot on KVM"
expect_in "$TMP/err" "no instance was created and the volumes were restored as copied"
[ "$(jq -r '.server.id // empty' "$S")" = "" ] || fail "a server was created for a refused guest"
[ "$(jq -r .boot_chain.status "$S")" = refused ] || fail "boot_chain status $(jq -r .boot_chain.status "$S")"
volumes_match_flat $VM "after the refusal"
restore_points_gone "$(jq -r '.volumes["2000"].id' "$S")" "after the refusal"
