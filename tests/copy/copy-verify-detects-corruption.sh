#!/bin/sh
# --verify compares source and destination over the copied areas by crc32.
# A clean copy verifies; a corrupted destination byte, or a source byte
# changed after the copy, makes verify fail (exit 5) naming the offset.
# (The checkpoint makes the rerun copy nothing, so only verify runs.)
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/copy/copy-functions.sh"

head -c 24M /dev/urandom > "$TMP/src"
serve src file "$TMP/src"

run_ferry 0 copy --verify --checkpoint "$TMP/ckpt" "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "verify: OK: 25165824 bytes compared"
cmp "$TMP/src" "$TMP/dst"

# One byte of the destination goes bad (offset 17 MiB + 100000: inside a
# request, past the 4 KiB at its start that a checkpoint may sample).
printf 'X' | dd of="$TMP/dst" bs=1 seek=$(((17 << 20) + 100000)) conv=notrunc status=none
run_ferry 5 copy --verify --checkpoint "$TMP/ckpt" "$uri_src" "$TMP/dst"
[ "$(stat_of processed)" = 0 ] || fail "the rerun should have copied nothing"
expect_in "$TMP/err" "differ at offset 17825792 "
expect_in "$TMP/err" "verify: FAILED: 1 chunk"

# Put it back; now the source changes after the copy.
cp "$TMP/src" "$TMP/dst"
printf 'Y' | dd of="$TMP/src" bs=1 seek=1234 conv=notrunc status=none
run_ferry 5 copy --verify --checkpoint "$TMP/ckpt" "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "differ at offset 0 "

# Over --extents areas only: a difference outside them is not reported.
echo '[{"start": 4194304, "length": 1048576}]' > "$TMP/ext.json"
run_ferry 0 copy --verify --extents "$TMP/ext.json" "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "verify: OK: 1048576 bytes compared"
