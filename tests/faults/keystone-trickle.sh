#!/bin/sh
# A Keystone that sends its token a byte a second is cut at http_timeout,
# its retries at twice that: exit 4 naming the call and the key to raise,
# within 3 x http_timeout (ferry waited for the whole answer before).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/faults/hostile-functions.sh"

start_keystone trickle
run_measured 4 conversion-host status -e @"$TMP/cloud.yml" $LIMITS
expect_in "$TMP/err" "Keystone authentication: http://127\.0\.0\.1:$port/v3/auth/tokens: answer not complete within [0-9]+ s \([0-9]+ bytes came\); raise http_timeout"
expect_bounded $((3 * HTTP_TIMEOUT)) 300
