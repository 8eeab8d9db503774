#!/bin/sh
# ferry check warns before anything is copied when a Linux VM's shape says
# its boot chain may name disks that will not exist on KVM: lab-multi has
# disks on a PVSCSI and a SATA controller (on KVM: virtio disks in ferry's
# attach order, which the warning spells out); a guest type known for
# device-name installs (other26xLinux) is named; lab-linux-1disk (one disk,
# Debian 11) gets no such warning.  The check still exits 0: a warning.
. "$FERRY_SRCDIR/tests/functions.sh"
need_lab
E="-e @$FERRY_LAB_SECRETS -e @$FERRY_LAB_VARS"
# shellcheck disable=SC2086
run_ferry 0 check $E --vm lab-multi --vm lab-linux-1disk --format json
rows () { jq -r --arg vm "$1" '.[] | select(.check == "boot-chain" and .target == $vm) | "\(.status) \(.detail)"' "$TMP/out"; }
rows lab-multi > "$TMP/multi"
expect_in "$TMP/multi" "^warn disks on 2 controllers: on KVM they are virtio disks in ferry's order \(vda = disk-1000-0 \(pvscsi 0:0\), vdb = disk-1000-1 \(pvscsi 0:1\), vdc = disk-15000-0 \(ahci 0:0\)\)"
[ -z "$(rows lab-linux-1disk)" ] || fail "lab-linux-1disk warned: $(rows lab-linux-1disk)"

# lab-linux-1disk described as a custom Linux install (as vCenter shows a
# VM created with "Other 2.6.x Linux").
P=$FERRY_SRCDIR/tests/tools/vsphere-props.py
gid=$("$P" lab-linux-1disk | jq -r .guestId)
restore_gid () { "$P" --set-guest-id lab-linux-1disk "$gid" > /dev/null; }
on_exit restore_gid
[ "$("$P" --set-guest-id lab-linux-1disk other26xLinux64Guest)" = other26xLinux64Guest ] ||
    fail "the simulator did not take the new guest id"
# shellcheck disable=SC2086
run_ferry 0 check $E --vm lab-linux-1disk --format json
rows lab-linux-1disk > "$TMP/one"
expect_in "$TMP/one" "^warn other26xLinux64Guest guests were often installed naming disks by device"
[ "$(wc -l < "$TMP/one")" = 1 ] || fail "expected one boot-chain row: $(cat "$TMP/one")"
