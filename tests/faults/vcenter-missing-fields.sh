#!/bin/sh
# A vCenter answer missing one field is a clear error (exit 3, naming the
# call), never a crash: a sessionManager without its type attribute (before
# login), no viewManager (after login: discover and check).  A stand-in
# server (tests/tools/hostile-vcenter.py) answers from a real vCenter's
# service content with the field removed.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/faults/hostile-functions.sh"

start_vcenter no-session-manager-type
run_ferry 3 discover -e @"$TMP/secrets.yml" --all --no-write
expect_in "$TMP/err" "Login: the managed object to call it on is missing from the server's answers"
expect_not_in "$TMP/err" "hostile-test-password"

start_vcenter no-view-manager
run_ferry 3 discover -e @"$TMP/secrets.yml" --all --no-write
expect_in "$TMP/err" "CreateContainerView: the managed object to call it on is missing"
# check reports it as a failed check (exit 1: the work failed), not a crash.
run_ferry 1 check -e @"$TMP/secrets.yml" -e skip_conversion=true --vm any-vm
expect_in "$TMP/err" "the managed object to call it on is missing|CreateContainerView"
