#!/bin/sh
# A Keystone that accepts the connection and never answers is given up at
# http_timeout, its retries at twice that: exit 4 naming the call and the
# key to raise, within 3 x http_timeout (5 x 300 s before).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/faults/hostile-functions.sh"

start_keystone silent
run_measured 4 conversion-host status -e @"$TMP/cloud.yml" $LIMITS
expect_in "$TMP/err" "Keystone authentication: http://127\.0\.0\.1:$port/v3/auth/tokens: no answer within [0-9]+ s; raise http_timeout"
expect_bounded $((3 * HTTP_TIMEOUT)) 300
