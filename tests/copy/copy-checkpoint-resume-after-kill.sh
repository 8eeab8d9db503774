#!/bin/sh
# --checkpoint: kill -9 in the middle of a copy from a slow source; the
# rerun with the same checkpoint copies less than the whole and the result
# is byte-identical.  A torn last line in the checkpoint is ignored.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/copy/copy-functions.sh"

head -c 64M /dev/urandom > "$TMP/src"
# One 256K request at a time, 20 ms each: about 5 s for the whole disk.
serve slow --filter=delay file "$TMP/src" rdelay=20ms
"$FERRY" copy --connections 1 --requests 1 --checkpoint "$TMP/ckpt" \
         "$uri_slow" "$TMP/dst" 2>"$TMP/err1" &
pid=$!
sleep 3.5
kill -9 $pid
wait $pid 2>/dev/null || :
cat "$TMP/err1"
head -n 1 "$TMP/ckpt" | grep -q '^ferry-checkpoint 2 size=67108864 ' || fail "bad checkpoint header"
n=$(grep -c '^D ' "$TMP/ckpt" || :)
echo "ranges recorded before the kill: $n"
[ "$n" -gt 0 ] || fail "nothing recorded in 3.5 s"
cmp -s "$TMP/src" "$TMP/dst" && fail "the copy finished before the kill: test too fast"
# A crash in the middle of an append leaves a torn line.
printf 'D 12345' >> "$TMP/ckpt"

serve fast file "$TMP/src"
run_ferry 0 copy --checkpoint "$TMP/ckpt" "$uri_fast" "$TMP/dst"
cat "$TMP/err"
expect_in "$TMP/err" "ignored 1 incomplete or garbled line"
before=$(stat_of before)
processed=$(stat_of processed)
[ "$before" -gt 0 ] || fail "the rerun did not use the checkpoint"
[ "$processed" -lt 67108864 ] || fail "the rerun copied the whole disk"
[ $((before + processed)) = 67108864 ] || fail "done before + processed != size"
cmp "$TMP/src" "$TMP/dst" || fail "resumed copy differs from the source"

# Once complete, a rerun copies nothing.
run_ferry 0 copy --checkpoint "$TMP/ckpt" "$uri_fast" "$TMP/dst"
[ "$(stat_of processed)" = 0 ] || fail "a complete copy was copied again"
cmp "$TMP/src" "$TMP/dst"

# The checkpoint says done but the destination is gone: refused, not
# silently completed with missing data.
rm "$TMP/dst"
run_ferry 2 copy --checkpoint "$TMP/ckpt" "$uri_fast" "$TMP/dst"
expect_in "$TMP/err" "records finished ranges, but the destination .* did not exist"
[ ! -e "$TMP/dst" ] || fail "an empty destination was left behind"
