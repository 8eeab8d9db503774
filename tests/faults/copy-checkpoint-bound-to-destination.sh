#!/bin/sh
# A checkpoint is applied only to the destination it describes: after an
# interrupted copy, a rerun with the same checkpoint but a fresh zeroed
# destination (a new volume), another device, or a destination whose data
# changed since, is refused (exit 2, the checkpoint named, what to do) --
# never "copied" with the areas the checkpoint claims missing.  The right
# destination still resumes to a byte-identical copy.  A checkpoint of an
# earlier format (which could record unwritten areas) is not trusted.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/copy/copy-functions.sh"
. "$FERRY_SRCDIR/tests/faults/faults-functions.sh"

serve src sparse-random size=256M seed="$FAULT_SEED" percent=40
nbdcopy "$uri_src" "$TMP/ref" || fail "nbdcopy of the source"

# An interrupted copy into dst1, with part of the disk recorded.
truncate -s 256M "$TMP/dst1"
serve dst --filter=delay file "$TMP/dst1" wdelay=30ms
"$FERRY" copy --connections 2 --requests 4 --checkpoint "$TMP/ckpt" --checkpoint-interval 100 "$uri_src" "$uri_dst" \
         2>"$TMP/err1" &
pid=$!
for _i in $(seq 100); do
    [ "$(grep -c '^D ' "$TMP/ckpt" 2>/dev/null || echo 0)" -ge 3 ] && break
    sleep 0.05
done
kill -TERM $pid; wait $pid || :
stop_wait dst
n=$(grep -c '^D ' "$TMP/ckpt" || :)
[ "$n" -ge 3 ] || { cat "$TMP/err1"; fail "only $n units recorded before the interruption"; }
cmp -s "$TMP/ref" "$TMP/dst1" && fail "the copy finished: test too fast"
cp "$TMP/ckpt" "$TMP/ckpt.orig"

# A fresh zeroed destination of the same size over NBD: refused.
truncate -s 256M "$TMP/dst2"
serve dst file "$TMP/dst2"
run_ferry 2 copy --checkpoint "$TMP/ckpt" "$uri_src" "$uri_dst"
expect_in "$TMP/err" "checkpoint .*ckpt: the destination .* does not hold what it records as written"
expect_in "$TMP/err" "remove the checkpoint .* to copy everything again"
stop_wait dst
cmp -s -n 268435456 "$TMP/dst2" /dev/zero ||
    fail "the refused run wrote to the new destination"
cmp -s "$TMP/ckpt" "$TMP/ckpt.orig" || fail "the refused run changed the checkpoint"

# The same as a local file (exists, zeroed: not a file ferry created).
run_ferry 2 copy --checkpoint "$TMP/ckpt" "$uri_src" "$TMP/dst2"
expect_in "$TMP/err" "does not hold what it records as written"

# Another device holding other data (a copy of a different disk).
head -c 256M /dev/urandom > "$TMP/dst3"
run_ferry 2 copy --checkpoint "$TMP/ckpt" "$uri_src" "$TMP/dst3"
expect_in "$TMP/err" "does not hold what it records as written"

# The right destination, but one recorded area overwritten since (its first
# unit's sample): refused too.
cp "$TMP/dst1" "$TMP/dst1.saved"
first=$(sed -n '2p' "$TMP/ckpt" | awk '{ print $4 }')
dd if=/dev/urandom of="$TMP/dst1" bs=4096 count=1 seek=$((first / 4096)) conv=notrunc 2>/dev/null
run_ferry 2 copy --checkpoint "$TMP/ckpt" "$uri_src" "$TMP/dst1"
expect_in "$TMP/err" "does not hold what it records as written \(at offset $first\)"
mv "$TMP/dst1.saved" "$TMP/dst1"

# The right destination: resumed, byte-identical, less than the whole copied.
run_ferry 0 copy --checkpoint "$TMP/ckpt" "$uri_src" "$TMP/dst1"
before=$(stat_of before)
[ "$before" -gt 0 ] || fail "the rerun did not use the checkpoint"
cmp "$TMP/ref" "$TMP/dst1" || fail "the resumed copy differs from the source"

# A checkpoint of format 1 (earlier ferry): not trusted.
printf 'ferry-checkpoint 1 size=268435456 areas=00000000\nD 0 1048576 1234abcd\n' > "$TMP/ckpt1"
run_ferry 2 copy --checkpoint "$TMP/ckpt1" "$uri_src" "$TMP/dst1"
expect_in "$TMP/err" "earlier ferry \(format 1\)"

# A file whose first line is incomplete (a header torn by a crash, or not a
# checkpoint at all): refused and left as it is, never appended to.
printf 'ferry-checkpoint 2 size=268' > "$TMP/ckpt-torn"
cp "$TMP/ckpt-torn" "$TMP/ckpt-torn.orig"
run_ferry 2 copy --checkpoint "$TMP/ckpt-torn" "$uri_src" "$TMP/dst1"
expect_in "$TMP/err" "its first line is not a complete header"
cmp -s "$TMP/ckpt-torn" "$TMP/ckpt-torn.orig" || fail "the torn checkpoint was written to"
