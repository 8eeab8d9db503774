#!/bin/sh
# Transient read errors (nbdkit error filter, 1% of reads fail) are retried
# with backoff: the copy completes and equals the source.  Errors that
# never go away fail with exit 5, naming the offset and the endpoint.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/copy/copy-functions.sh"

head -c 64M /dev/urandom > "$TMP/src"
serve src --filter=error file "$TMP/src" error-pread=EIO error-pread-rate=1%
run_ferry 0 copy --request-size 64K "$uri_src" "$TMP/dst"
cmp "$TMP/src" "$TMP/dst" || fail "destination differs"
r=$(stat_of retries)
echo "retries: $r"
[ "$r" -gt 0 ] || fail "no read failed: the error filter did not work?"

# Writes failing too (NBD destination).
serve dst --filter=error memory size=64M error-pwrite=EIO error-pwrite-rate=1%
run_ferry 0 copy --request-size 64K "$TMP/src" "$uri_dst"
nbdcopy "$uri_dst" "$TMP/back"
cmp "$TMP/src" "$TMP/back" || fail "NBD destination differs"

# Persistent: every read fails.
serve bad --filter=error file "$TMP/src" error-pread=EIO error-pread-rate=100%
run_ferry 5 copy --retries 2 "$uri_bad" "$TMP/dst2"
expect_in "$TMP/err" "reading from source nbd\+unix:.*bad.sock at offset [0-9]+ \(length [0-9]+\) failed after 3 attempts: Input/output error"
