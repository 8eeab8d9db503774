#!/bin/sh
# Local file → NBD destination (nbdkit memory plugin, multi-conn): the
# export reads back equal to the file.  A destination holding old data
# (nbdkit data plugin) gets its zero areas zeroed with NBD_CMD_WRITE_ZEROES.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/copy/copy-functions.sh"

# A sparse source file with data at odd places.
truncate -s 40M "$TMP/src"
head -c 3M /dev/urandom | dd of="$TMP/src" bs=1M seek=5 conv=notrunc status=none
head -c 777 /dev/urandom | dd of="$TMP/src" bs=1 seek=$((30 << 20)) conv=notrunc status=none
head -c 4096 /dev/urandom | dd of="$TMP/src" bs=4096 seek=$(((40 << 20) / 4096 - 1)) conv=notrunc status=none

serve dst memory size=40M
run_ferry 0 copy "$TMP/src" "$uri_dst"
nbdcopy "$uri_dst" "$TMP/back"
cmp "$TMP/src" "$TMP/back" || fail "NBD destination differs from the file"

# Old data everywhere in the destination: zero areas must be written.
serve old data '( 0x55 )*41943040'
run_ferry 0 copy "$TMP/src" "$uri_old"
nbdcopy "$uri_old" "$TMP/back2"
cmp "$TMP/src" "$TMP/back2" || fail "old data left in zero areas"
[ "$(stat_of zeroed)" -gt $((30 << 20)) ] || fail "zero areas not zeroed"

# NBD → NBD as well.
serve dst2 memory size=40M
run_ferry 0 copy "$uri_old" "$uri_dst2"
nbdcopy "$uri_dst2" "$TMP/back3"
cmp "$TMP/src" "$TMP/back3" || fail "NBD → NBD differs"
