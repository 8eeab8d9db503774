#!/bin/sh
# --extents FILE copies only the listed areas (the CBT delta path): the
# areas get the new data, everything else keeps the old data, and only the
# listed bytes are processed.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/copy/copy-functions.sh"

head -c 32M /dev/urandom > "$TMP/old"
cp "$TMP/old" "$TMP/new"
# Change three areas of the "guest", one of them to zeroes.
head -c 65536 /dev/urandom | dd of="$TMP/new" bs=65536 seek=3 conv=notrunc status=none
head -c 1000000 /dev/urandom | dd of="$TMP/new" bs=1 seek=10000000 conv=notrunc status=none
dd if=/dev/zero of="$TMP/new" bs=1M seek=20 count=2 conv=notrunc status=none
cat > "$TMP/extents.json" <<'JSON'
[{"start": 10000000, "length": 1000000},
 {"start": 196608, "length": 65536},
 {"start": 20971520, "length": 2097152}]
JSON
serve src file "$TMP/new"

cp "$TMP/old" "$TMP/dst"
run_ferry 0 copy --extents "$TMP/extents.json" "$uri_src" "$TMP/dst"
cmp "$TMP/new" "$TMP/dst" || fail "delta copy did not give the new disk"
[ "$(stat_of processed)" = $((1000000 + 65536 + 2097152)) ] ||
    fail "processed $(stat_of processed) bytes, not just the extents"

# Areas not listed are not touched: change the source outside the extents.
head -c 4096 /dev/urandom | dd of="$TMP/new" bs=4096 seek=2000 conv=notrunc status=none
cp "$TMP/old" "$TMP/dst2"
run_ferry 0 copy --extents "$TMP/extents.json" "$uri_src" "$TMP/dst2"
cmp -s "$TMP/new" "$TMP/dst2" && fail "an area outside the extents was copied"
cmp -i 8192000 -n 4096 "$TMP/old" "$TMP/dst2" || fail "bytes outside the extents changed"

# Overlapping, unsorted and empty areas are fine.
echo '[{"start":100,"length":50},{"start":0,"length":120},{"start":5,"length":0}]' > "$TMP/o.json"
run_ferry 0 copy --extents "$TMP/o.json" "$uri_src" "$TMP/dst2"
[ "$(stat_of processed)" = 150 ] || fail "overlapping areas not merged"
