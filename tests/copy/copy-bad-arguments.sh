#!/bin/sh
# Bad input gives a clear error naming the thing and exit 2 (nothing done),
# never a crash.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/copy/copy-functions.sh"

serve src pattern size=1M
truncate -s 1M "$TMP/file"

run_ferry 2 copy
expect_in "$TMP/err" "a source and a destination are needed"
run_ferry 2 copy "$uri_src"
run_ferry 2 copy a b c
expect_in "$TMP/err" "too many arguments"
run_ferry 2 copy --frobnicate "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "option '--frobnicate' is not known"

# Missing source file, bad URIs, a socket that isn't there.
run_ferry 2 copy "$TMP/nosuch" "$TMP/dst"
expect_in "$TMP/err" "source $TMP/nosuch: No such file or directory"
run_ferry 2 copy "nbd://[::1" "$TMP/dst"
expect_in "$TMP/err" "source nbd://\[::1: "
run_ferry 2 copy "http://example.com/disk" "$TMP/dst"
expect_in "$TMP/err" "source http://example.com/disk: not an NBD URI"
run_ferry 2 copy "nbd+unix:///?socket=$TMP/nosuch.sock" "$TMP/dst"
expect_in "$TMP/err" "source nbd\+unix:///\?socket=$TMP/nosuch.sock: "
run_ferry 2 copy "$uri_src" "$TMP"
expect_in "$TMP/err" "destination $TMP: not a regular file or a block device"
[ ! -e "$TMP/dst" ] || fail "a destination was created"

# Option values.
run_ferry 2 copy --connections 0 "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "--connections must be a number from 1 to 64, not '0'"
run_ferry 2 copy --requests many "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "--requests must be a number"
run_ferry 2 copy --request-size 1000 "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "--request-size must be a multiple of 4096"
run_ferry 0 copy --request-size 1M --connections 2 --requests 8 "$uri_src" "$TMP/dst"

# Extents files.
run_ferry 2 copy --extents "$TMP/nosuch.json" "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "extents file $TMP/nosuch.json: No such file or directory"
run_ferry 2 copy --extents "$TMP" "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "extents file $TMP: Is a directory"
echo '[{"start": 0, "length": ' > "$TMP/bad.json"
run_ferry 2 copy --extents "$TMP/bad.json" "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "extents $TMP/bad.json: not valid JSON: line"
echo '[{"start": 0}]' > "$TMP/nolen.json"
run_ferry 2 copy --extents "$TMP/nolen.json" "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "area 0 has no \"length\""
echo '[{"start": -5, "length": 1}]' > "$TMP/neg.json"
run_ferry 2 copy --extents "$TMP/neg.json" "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "\"start\" must be a non-negative integer"
echo '{"start": 0, "length": 1}' > "$TMP/obj.json"
run_ferry 2 copy --extents "$TMP/obj.json" "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "expected a JSON array"
echo '[{"start": 1048000, "length": 1000}]' > "$TMP/beyond.json"
run_ferry 2 copy --extents "$TMP/beyond.json" "$uri_src" "$TMP/dst"
expect_in "$TMP/err" "the area at 1048000 \(length 1000\) goes beyond the end of the source .* \(1048576 bytes\)"

# Destination smaller than the source (NBD); read-only destination.
serve small memory size=512K
run_ferry 2 copy "$uri_src" "$uri_small"
expect_in "$TMP/err" "is smaller than the source \(1048576 bytes\)"
serve ro pattern size=1M
run_ferry 2 copy "$TMP/file" "$uri_ro"
expect_in "$TMP/err" "destination .* is read-only"

# A checkpoint from another copy.
run_ferry 0 copy --checkpoint "$TMP/ckpt" "$uri_src" "$TMP/dst3"
serve two pattern size=2M
run_ferry 2 copy --checkpoint "$TMP/ckpt" "$uri_two" "$TMP/dst4"
expect_in "$TMP/err" "checkpoint $TMP/ckpt belongs to a copy of a 1048576-byte disk"
echo '[{"start": 0, "length": 4096}]' > "$TMP/e.json"
run_ferry 2 copy --checkpoint "$TMP/ckpt" --extents "$TMP/e.json" "$uri_src" "$TMP/dst3"
expect_in "$TMP/err" "belongs to a copy of other areas"
echo "garbage" > "$TMP/notckpt"
run_ferry 2 copy --checkpoint "$TMP/notckpt" "$uri_src" "$TMP/dst3"
expect_in "$TMP/err" "not a ferry checkpoint file"
