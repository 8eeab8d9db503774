#!/bin/sh
# NBD → block device (a loop device over a file full of garbage): the
# device ends up equal to the source, zero areas zeroed (BLKZEROOUT) since
# a device is not known to be zero; aligned writes use O_DIRECT.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/copy/copy-functions.sh"
requires losetup
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for losetup"; exit 77; }

head -c 80M /dev/urandom > "$TMP/backing"
loop=$(losetup --find --show "$TMP/backing" 2>/dev/null) ||
    { echo "SKIP: no loop device available"; exit 77; }
detach () { losetup -d "$loop"; }
on_exit detach

serve src sparse-random size=64M percent=20 seed=11
nbdcopy "$uri_src" "$TMP/ref"
run_ferry 0 --debug copy "$uri_src" "$loop"
expect_in "$TMP/err" "block device"
head -c 64M "$loop" | cmp - "$TMP/ref" || fail "device differs from the source"
[ "$(stat_of zeroed)" -gt $((40 << 20)) ] || fail "zero areas were not zeroed"
# The rest of the device is left alone.
tail -c 16M "$loop" | cmp - "$(tail -c 16M "$TMP/backing" > "$TMP/tail"; echo "$TMP/tail")" ||
    fail "bytes beyond the source size changed"

# A device smaller than the source is refused before anything is written.
serve big sparse-random size=128M seed=1
run_ferry 2 copy "$uri_big" "$loop"
expect_in "$TMP/err" "destination $loop \(83886080 bytes\) is smaller than the source \(134217728 bytes\)"
