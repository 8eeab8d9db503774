#!/bin/sh
# A Keystone answer announced and sent larger than http_max_body_mib
# (2 GiB) is not read: exit 4 naming the call and the key to raise, in
# bounded memory (ferry held all of it before).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/faults/hostile-functions.sh"

start_keystone huge
run_measured 4 conversion-host status -e @"$TMP/cloud.yml" $LIMITS
expect_in "$TMP/err" "Keystone authentication: http://127\.0\.0\.1:$port/v3/auth/tokens: answer larger than $HTTP_MAX_BODY_MIB MiB: stopped reading it; raise http_max_body_mib"
expect_bounded 20 300
