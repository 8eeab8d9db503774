#!/bin/sh
# --destination-is-zero: zero areas are skipped, not written; without it an
# NBD destination gets zero requests.  A new file is known to be zero.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/copy/copy-functions.sh"

serve src sparse-random size=64M percent=10 seed=5
nbdcopy "$uri_src" "$TMP/ref"

serve a memory size=64M
run_ferry 0 copy "$uri_src" "$uri_a"
z=$(stat_of zeroed)
[ "$z" -gt $((50 << 20)) ] || fail "without the option zero areas should be zeroed ($z)"
[ "$(stat_of skipped)" = 0 ] || fail "nothing should be skipped"

serve b memory size=64M
run_ferry 0 copy --destination-is-zero "$uri_src" "$uri_b"
[ "$(stat_of zeroed)" = 0 ] || fail "zero requests sent despite --destination-is-zero"
[ "$(stat_of skipped)" -gt $((50 << 20)) ] || fail "zero areas not skipped"
nbdcopy "$uri_b" "$TMP/back"
cmp "$TMP/ref" "$TMP/back" || fail "destination differs"

# Zero detection feeds the same path (--no-extents).
serve c memory size=64M
run_ferry 0 copy --no-extents --destination-is-zero "$uri_src" "$uri_c"
[ "$(stat_of zeroed)" = 0 ] || fail "zero requests sent (--no-extents)"
nbdcopy "$uri_c" "$TMP/back2"
cmp "$TMP/ref" "$TMP/back2" || fail "destination differs (--no-extents)"
