#!/bin/bash
# Lab: a Cinder volume attached to ferry-conversion-host through Nova appears
# as a block device at /dev/disk/by-id/virtio-<20 chars of id>; data written
# there lands in the volume file; detach removes the device.
. lab/openstack/testlib.sh

login_ferry
COMPUTE_URL=$(endpoint compute)
VOLUME_URL=$(endpoint volumev3)
CH=$FERRY_LAB_CONVERSION_HOST_ID
[ -n "$CH" ] || fail "FERRY_LAB_CONVERSION_HOST_ID is empty"
[ "$(server_status "$CH")" = ACTIVE ] || fail "conversion host $CH is not ACTIVE"

create_volume "lab-test-attach-$$" 1
vid=$VOL_ID
link=/dev/disk/by-id/virtio-${vid:0:20}
file=$FERRY_LAB_VOLUMES/volume-$vid
[ -f "$file" ] || fail "no volume file $file"
[ "$(stat -c %s "$file")" = 1073741824 ] || fail "$file is $(stat -c %s "$file") bytes, want 1 GiB"

detach() { api DELETE "$COMPUTE_URL/servers/$CH/os-volume_attachments/$1" >/dev/null; }
WHAT="attach $vid to the conversion host" api POST "$COMPUTE_URL/servers/$CH/os-volume_attachments" \
    "$(jq -n --arg v "$vid" '{volumeAttachment: {volumeId: $v}}')" >/dev/null
WHAT="attach $vid to the conversion host" expect 200
at_exit detach "$vid"

t0=$(date +%s%N)
wait_until 10 "$link to appear" test -b "$link"
info "by-id link after $((($(date +%s%N) - t0) / 1000000)) ms -> $(readlink -f "$link")"
dev=$(readlink -f "$link")
wait_until 30 "volume $vid in-use" volume_is "$vid" in-use
[ "$(blockdev --getsize64 "$dev")" = 1073741824 ] || fail "$dev is not 1 GiB"

head -c 1048576 /dev/urandom >"$T_TMP/data"
dd if="$T_TMP/data" of="$link" bs=1M seek=4 count=1 oflag=direct status=none ||
    fail "dd oflag=direct to $link failed"
# read back through the device, bypassing the cache
dd if="$link" bs=1M skip=4 count=1 iflag=direct status=none | cmp -s - "$T_TMP/data" ||
    fail "read back through $link differs"

WHAT="detach $vid" api DELETE "$COMPUTE_URL/servers/$CH/os-volume_attachments/$vid" >/dev/null
WHAT="detach $vid" expect 202
wait_until 20 "$link to go away" test ! -e "$link"
loop_gone() { ! losetup -n -O BACK-FILE "$dev" 2>/dev/null | grep -q "volume-$vid"; }
wait_until 20 "$dev to be detached from volume-$vid" loop_gone
wait_until 30 "volume $vid available after detach" volume_is "$vid" available

dd if="$file" bs=1M skip=4 count=1 status=none | cmp -s - "$T_TMP/data" ||
    fail "the bytes written at 4 MiB are not in $file"
# the rest stays sparse/zero: first 4 MiB all zero
[ "$(dd if="$file" bs=1M count=4 status=none | tr -d '\0' | wc -c)" = 0 ] ||
    fail "$file has unexpected data before 4 MiB"

WHAT="delete volume $vid" api DELETE "$VOLUME_URL/volumes/$vid" >/dev/null
WHAT="delete volume $vid" expect 202
wait_until 30 "volume $vid deleted" volume_gone "$vid"
[ ! -e "$file" ] || fail "$file still exists after delete"
exit 0
