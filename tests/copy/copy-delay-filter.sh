#!/bin/sh
# Slow source and destination (nbdkit delay filter): requests in flight on
# several connections overlap the latencies, so the copy takes a fraction
# of the serial time, and the result is exact.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/copy/copy-functions.sh"

head -c 64M /dev/urandom > "$TMP/src"
# 256 reads and 256 writes of 256K at 20 ms each: 10 s one at a time.
serve src --filter=delay file "$TMP/src" rdelay=20ms
serve dst --filter=delay memory size=64M wdelay=20ms
start=$(date +%s.%N)
run_ferry 0 copy "$uri_src" "$uri_dst"
end=$(date +%s.%N)
t=$(awk "BEGIN { print $end - $start }")
echo "took $t s (serial: 10.2 s)"
awk "BEGIN { exit !($t < 4) }" || fail "no overlap of requests: $t s"
nbdcopy "$uri_dst" "$TMP/back"
cmp "$TMP/src" "$TMP/back" || fail "destination differs"
