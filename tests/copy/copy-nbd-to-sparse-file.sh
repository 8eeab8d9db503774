#!/bin/sh
# Holes are preserved: zero areas of the source (from block status, or
# found by zero detection with --no-extents) become holes in the file.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/copy/copy-functions.sh"

serve src sparse-random size=512M percent=5 seed=3
nbdcopy "$uri_src" "$TMP/ref"
ref_alloc=$(allocated "$TMP/ref")

run_ferry 0 copy "$uri_src" "$TMP/dst"
cmp "$TMP/ref" "$TMP/dst" || fail "destination differs"
alloc=$(allocated "$TMP/dst")
echo "allocated: ferry $alloc, nbdcopy $ref_alloc, size $((512 << 20))"
[ "$alloc" -le $((ref_alloc + ref_alloc / 10)) ] || fail "not sparse: $alloc bytes allocated"
[ "$(stat_of skipped)" -gt $((400 << 20)) ] || fail "zero areas were not skipped"
# SEEK_DATA finds holes: the first data is not at 0 for a 5% source,
# and there is a hole after it.
python3 - "$TMP/dst" <<'PY' || fail "no holes found with SEEK_HOLE"
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
h = os.lseek(fd, 0, os.SEEK_HOLE)
assert h < os.fstat(fd).st_size, "no hole"
PY

# Without extents: zero detection in the data still makes holes.
run_ferry 0 copy --no-extents "$uri_src" "$TMP/dst2"
cmp "$TMP/ref" "$TMP/dst2" || fail "destination differs (--no-extents)"
alloc2=$(allocated "$TMP/dst2")
[ "$alloc2" -le $((ref_alloc * 2)) ] || fail "not sparse with --no-extents: $alloc2"
[ "$(stat_of read)" -gt $((400 << 20)) ] || fail "--no-extents did not read everything"

# A sparse local file as the source (SEEK_DATA extents) to a sparse file.
run_ferry 0 copy "$TMP/dst" "$TMP/dst3"
cmp "$TMP/ref" "$TMP/dst3" || fail "file → file differs"
[ "$(allocated "$TMP/dst3")" -le $((ref_alloc + ref_alloc / 10)) ] || fail "file → file not sparse"
