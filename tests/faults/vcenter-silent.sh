#!/bin/sh
# A vCenter that accepts the connection and never answers is given up at
# http_timeout, its retries at twice that: exit 3 naming the call and the
# key to raise, within 3 x http_timeout (5 x 300 s before).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/faults/hostile-functions.sh"

start_vcenter silent
run_measured 3 discover -e @"$TMP/secrets.yml" $LIMITS --all --no-write
expect_in "$TMP/err" "RetrieveServiceContent: https://127\.0\.0\.1:$port/sdk: no answer within [0-9]+ s; raise http_timeout"
expect_bounded $((3 * HTTP_TIMEOUT)) 300
