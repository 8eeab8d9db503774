#!/bin/sh
# The NFS-mounted datastore source (local_disk_path): qemu-nbd serves the
# VMDK read-only whatever its subformat -- the lab's own vmfs flat disks,
# monolithicSparse, monolithicFlat, streamOptimized -- and a snapshot delta
# chain as the guest sees it.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/sources/functions-source.sh"
need_lab
flat=$(flat_of lab-multi 2)
check () {  # $1: mount dir, $2: expected raw image
    start_disk_server -e @"$FERRY_LAB_SECRETS" -e local_disk_path="$1" --vm lab-multi \
        --disk 2 --source local --workdir "$TMP/w"
    nbdcopy "$URI" "$TMP/got.raw"
    stop_disk_server
    cmp "$TMP/got.raw" "$2" || fail "$3: served data differs"
    rm -f "$TMP/got.raw"
}
# The datastore directory itself, as an NFS mount would show it.
check "$FERRY_LAB_DATASTORE" "$flat" "vmfs flat"
mkdir -p "$TMP/ds/lab-multi"
for sub in monolithicSparse monolithicFlat streamOptimized; do
    rm -f "$TMP"/ds/lab-multi/*
    qemu-img convert -f raw -O vmdk -o subformat=$sub "$flat" "$TMP/ds/lab-multi/lab-multi_2.vmdk"
    check "$TMP/ds" "$flat" "$sub"
done
# A snapshot delta chain: the child overrides the first 64 KiB.
rm -f "$TMP"/ds/lab-multi/*
qemu-img convert -f raw -O vmdk -o subformat=monolithicSparse "$flat" "$TMP/ds/lab-multi/base.vmdk"
qemu-img create -q -f vmdk -b base.vmdk -F vmdk "$TMP/ds/lab-multi/lab-multi_2.vmdk"
qemu-io -f vmdk -c "write -P 0x5a 0 64k" "$TMP/ds/lab-multi/lab-multi_2.vmdk" > /dev/null
cp "$flat" "$TMP/expected.raw"
head -c 65536 /dev/zero | tr '\0' 'Z' | dd of="$TMP/expected.raw" conv=notrunc status=none
check "$TMP/ds" "$TMP/expected.raw" "delta chain"
