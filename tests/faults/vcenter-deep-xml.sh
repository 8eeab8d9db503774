#!/bin/sh
# A vCenter answer nested 300,000 elements deep is refused as it is parsed:
# exit 3 naming the call (the XML to JSON conversion overflowed the stack
# before).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/faults/hostile-functions.sh"

start_vcenter deep
run_measured 3 discover -e @"$TMP/secrets.yml" $LIMITS --all --no-write
expect_in "$TMP/err" "RetrieveServiceContent: https://127\.0\.0\.1:$port/sdk answered HTTP 200 with XML nested deeper than 256 levels"
expect_bounded 20 300
