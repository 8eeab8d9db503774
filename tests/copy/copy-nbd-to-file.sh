#!/bin/sh
# NBD source → new local file: byte-identical, exit 0, flushed; an existing
# file is replaced (truncated to the source size).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/copy/copy-functions.sh"

serve src sparse-random size=96M percent=30 seed=7
nbdcopy "$uri_src" "$TMP/ref"

run_ferry 0 copy "$uri_src" "$TMP/dst"
cmp "$TMP/ref" "$TMP/dst" || fail "destination differs from the source"
expect_in "$TMP/err" "copy: 100663296 of 100663296 bytes processed"
[ "$(stat -c %s "$TMP/dst")" = 100663296 ] || fail "wrong size"

# An existing bigger file full of garbage is replaced.
head -c 130M /dev/urandom > "$TMP/dst"
run_ferry 0 copy "$uri_src" "$TMP/dst"
cmp "$TMP/ref" "$TMP/dst" || fail "existing destination not replaced"

# Dense data, odd size (not a multiple of the request size), 1 connection.
serve dense pattern size=12345677
nbdcopy "$uri_dense" "$TMP/ref2"
run_ferry 0 copy --connections 1 --requests 3 --request-size 64K "$uri_dense" "$TMP/dst2"
cmp "$TMP/ref2" "$TMP/dst2" || fail "dense copy differs"
