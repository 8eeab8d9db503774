#!/bin/sh
# A vCenter that sends its answer a byte a second is cut at http_timeout,
# its retries at twice that: exit 3 naming the call and the key to raise,
# within 3 x http_timeout (ferry waited for the whole answer before: over
# an hour).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/faults/hostile-functions.sh"

start_vcenter trickle
run_measured 3 discover -e @"$TMP/secrets.yml" $LIMITS --all --no-write
expect_in "$TMP/err" "RetrieveServiceContent: https://127\.0\.0\.1:$port/sdk: answer not complete within [0-9]+ s \([0-9]+ bytes came\); raise http_timeout"
expect_bounded $((3 * HTTP_TIMEOUT)) 300
