#!/bin/sh
# A Keystone token body nested 300,000 levels deep is an error naming the
# call (exit 4), never a crash: jansson stops at depth 2048.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/faults/hostile-functions.sh"

start_keystone deep
run_measured 4 conversion-host status -e @"$TMP/cloud.yml" $LIMITS
expect_in "$TMP/err" "Keystone authentication: POST http://127\.0\.0\.1:$port/v3/auth/tokens: the answer has no token body"
expect_bounded 20 300
