#!/bin/sh
# --progress=json prints one JSON object per second on stderr (bytes done,
# total, rate), and a final one with bytes == total.  --progress without a
# terminal prints plain lines.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/copy/copy-functions.sh"
requires jq

# About 2.6 s: 32 MiB read with 4 requests of 64K in flight, 20 ms each.
serve src --filter=delay pattern size=32M rdelay=20ms
run_ferry 0 copy --progress=json --connections 1 --requests 4 --request-size 64K "$uri_src" "$TMP/dst"
grep '^{' "$TMP/err" > "$TMP/json" || fail "no JSON lines"
n=$(wc -l < "$TMP/json")
[ "$n" -ge 3 ] || fail "expected several progress objects, got $n"
jq -e 'has("bytes") and has("total") and has("rate") and .total == 33554432' "$TMP/json" \
    >/dev/null || fail "bad progress object"
tail -n 1 "$TMP/json" | jq -e '.final == true and .bytes == .total' >/dev/null ||
    fail "last object is not the final one"
# bytes never go down
jq -r .bytes "$TMP/json" | sort -n -c || fail "bytes went backwards"
head -n 1 "$TMP/json" | jq -e '.rate > 0 and .bytes < .total' >/dev/null ||
    fail "first object has no rate"

run_ferry 0 copy --progress "$uri_src" "$TMP/dst2"
expect_in "$TMP/err" '100\.0%  32\.0 MiB / 32\.0 MiB'

run_ferry 2 copy --progress=xml "$uri_src" "$TMP/dst2"
expect_in "$TMP/err" "--progress takes no value, =bar or =json"
