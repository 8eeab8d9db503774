#!/bin/sh
# A vCenter answer larger than http_max_body_mib (2 GiB, no Content-Length)
# is not read past the cap: exit 3 naming the call and the key to raise,
# in bounded memory (ferry held all of it before).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/faults/hostile-functions.sh"

start_vcenter huge
run_measured 3 discover -e @"$TMP/secrets.yml" $LIMITS --all --no-write
expect_in "$TMP/err" "RetrieveServiceContent: https://127\.0\.0\.1:$port/sdk: answer larger than $HTTP_MAX_BODY_MIB MiB: stopped reading it; raise http_max_body_mib"
expect_bounded 20 300
